"""Inference API (:mod:`.inference`), frame reading (:mod:`.video_io`) and
export of the segmentor to stock mmseg (:mod:`.export`)."""
from .export import (NotStockMMSegError, export_checkpoint, export_config,
                     export_segmentor)
from .inference import (DEFAULT_TEST_PIPELINE, inference_pair,
                        inference_segmentor, inference_video, init_model,
                        pair_sample_to_numpy, single_frame_test_pipeline)
from .video_io import FrameSource, list_frame_files, read_image

__all__ = [
    'init_model', 'inference_segmentor', 'inference_pair', 'inference_video',
    'pair_sample_to_numpy',
    'single_frame_test_pipeline', 'DEFAULT_TEST_PIPELINE', 'FrameSource',
    'list_frame_files', 'read_image', 'export_config', 'export_checkpoint',
    'export_segmentor', 'NotStockMMSegError'
]
