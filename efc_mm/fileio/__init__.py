"""Reading and writing optical flow files."""
from .flow_io import (read_flo, read_flow_kitti, write_flo, write_flow_kitti)

__all__ = ['read_flo', 'write_flo', 'read_flow_kitti', 'write_flow_kitti']
