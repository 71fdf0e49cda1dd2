"""Utilities: config checks and module registration."""
from .config_check import check_config_types, register_all_modules

__all__ = ['check_config_types', 'register_all_modules']
