"""Reading frames from a video file, a folder of frames or one image."""
import os
import os.path as osp
import re
import warnings
from typing import Iterator, List, Optional, Sequence, Tuple

import cv2
import numpy as np

__all__ = ['IMAGE_EXTENSIONS', 'FrameSource', 'list_frame_files',
           'read_image', 'image_format']

#: file suffixes read as frames from a folder (case-insensitive)
IMAGE_EXTENSIONS = ('.png', '.jpg', '.jpeg', '.bmp', '.tif', '.tiff',
                    '.webp', '.ppm')


def _natural_key(name: str):
    """Sort ``frame_2`` before ``frame_10`` (digits compared as numbers)."""
    return [int(t) if t.isdigit() else t.lower()
            for t in re.split(r'(\d+)', name)]


def list_frame_files(folder: str) -> List[str]:
    """Image files of ``folder`` in natural order (no recursion).

    Raises:
        ValueError: the folder holds no image file.
    """
    names = [n for n in os.listdir(folder)
             if n.lower().endswith(IMAGE_EXTENSIONS)
             and osp.isfile(osp.join(folder, n))]
    if not names:
        raise ValueError(f'folder {folder} holds no image file '
                         f'(looked for {", ".join(IMAGE_EXTENSIONS)})')
    return [osp.join(folder, n) for n in sorted(names, key=_natural_key)]


def read_image(path: str) -> np.ndarray:
    """A colour image as ``(H, W, 3)`` uint8 BGR.

    Raises:
        FileNotFoundError: no such file.
        ValueError: OpenCV cannot decode it.
    """
    if not osp.isfile(path):
        raise FileNotFoundError(f'image file not found: {path}')
    img = cv2.imread(path, cv2.IMREAD_COLOR)
    if img is None:
        raise ValueError(f'{path} could not be decoded as an image')
    return img


#: leading bytes of image formats OpenCV's video reader also opens
IMAGE_SIGNATURES = ((b'\x89PNG\r\n\x1a\n', 'PNG'),
                    (b'\xff\xd8\xff', 'JPEG'), (b'BM', 'BMP'),
                    (b'II*\x00', 'TIFF'), (b'MM\x00*', 'TIFF'),
                    (b'RIFF', None))


def image_format(path: str) -> Optional[str]:
    """The image format of ``path`` from its first bytes (``'PNG'``,
    ``'JPEG'``, ``'BMP'``, ``'TIFF'``, ``'WEBP'``), None for anything else
    (e.g. a video container)."""
    with open(path, 'rb') as f:
        head = f.read(16)
    for magic, name in IMAGE_SIGNATURES:
        if head.startswith(magic):
            if name is None:  # RIFF: WEBP image or AVI video
                return 'WEBP' if head[8:12] == b'WEBP' else None
            return name
    return None


def _resize(frame: np.ndarray, size: Optional[Tuple[int, int]]) -> np.ndarray:
    if size is None or (frame.shape[1], frame.shape[0]) == tuple(size):
        return frame
    w, h = size
    interp = cv2.INTER_AREA if w * h < frame.shape[0] * frame.shape[1] \
        else cv2.INTER_LINEAR
    return cv2.resize(frame, (int(w), int(h)), interpolation=interp)


class FrameSource:
    """Frames of a video file (OpenCV), a folder of images (natural sort)
    or a single image, as ``(name, BGR uint8 frame)``.

    The source is checked when the object is made (so errors come before
    any work): the path exists, a folder holds images, a video decodes at
    least one frame.

    Args:
        source (str): video file, folder of frames or image file.
        max_frames (int, optional): stop after this many frames.
        resize (tuple[int, int], optional): ``(width, height)`` of the
            returned frames.

    Raises:
        FileNotFoundError: ``source`` does not exist.
        ValueError: empty folder, or no frame could be decoded from the
            file; ``max_frames`` < 1; bad ``resize``.
    """

    def __init__(self, source: str, max_frames: Optional[int] = None,
                 resize: Optional[Sequence[int]] = None) -> None:
        source = os.fspath(source)
        if not osp.exists(source):
            raise FileNotFoundError(
                f'video or frame folder not found: {source}')
        if max_frames is not None and max_frames < 1:
            raise ValueError(f'max_frames must be >= 1, got {max_frames}')
        if resize is not None:
            if len(resize) != 2 or min(resize) < 1:
                raise ValueError('resize must be (width, height) with '
                                 f'positive sizes, got {resize}')
            resize = (int(resize[0]), int(resize[1]))
        self.source = source
        self.max_frames = max_frames
        self.resize = resize
        self.files: Optional[List[str]] = None
        self.fps: Optional[float] = None
        if osp.isdir(source):
            self.files = list_frame_files(source)
        elif source.lower().endswith(IMAGE_EXTENSIONS):
            read_image(source)  # fail early on an undecodable image
            self.files = [source]
        else:
            self._num_video_frames = self._probe_video()
            kind = image_format(source)
            if kind is not None:
                warnings.warn(
                    f'{source} is a {kind} image, not a video (its name ends '
                    f'in {osp.splitext(source)[1] or "no suffix"}): it is '
                    'read as a video of one frame, so there is no pair and '
                    'no flow. Give a video file or a folder of frames.',
                    UserWarning, stacklevel=2)

    @property
    def is_video(self) -> bool:
        return self.files is None

    def _probe_video(self) -> int:
        """Open the video, decode its first frame; number of frames the
        container announces (0 if unknown)."""
        cap = cv2.VideoCapture(self.source)
        try:
            ok, frame = cap.read() if cap.isOpened() else (False, None)
            if not ok or frame is None:
                raise ValueError(
                    f'no frame could be decoded from {self.source} (not a '
                    'video OpenCV can read, or an empty one)')
            fps = cap.get(cv2.CAP_PROP_FPS)
            self.fps = float(fps) if fps and np.isfinite(fps) and fps > 0 \
                else None
            return max(int(cap.get(cv2.CAP_PROP_FRAME_COUNT)), 0)
        finally:
            cap.release()

    def __len__(self) -> int:
        """Number of frames to expect (a video's container count may be
        approximate; 0 = unknown)."""
        n = len(self.files) if self.files is not None else \
            self._num_video_frames
        if self.max_frames is not None and (n == 0 or n > self.max_frames):
            n = self.max_frames
        return n

    def __iter__(self) -> Iterator[Tuple[str, np.ndarray]]:
        if self.files is not None:
            files = self.files[:self.max_frames]
            for path in files:
                yield osp.basename(path), _resize(read_image(path),
                                                  self.resize)
            return
        yield from self._iter_video()

    def _iter_video(self) -> Iterator[Tuple[str, np.ndarray]]:
        cap = cv2.VideoCapture(self.source)
        stem = osp.splitext(osp.basename(self.source))[0]
        try:
            idx = 0
            while self.max_frames is None or idx < self.max_frames:
                ok, frame = cap.read()
                if not ok or frame is None:
                    break
                yield f'{stem}_{idx:06d}', _resize(frame, self.resize)
                idx += 1
        finally:
            cap.release()
