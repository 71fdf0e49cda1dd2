"""Split a video (or every video of a folder) into a folder of frames.

Writes the layout that ``VideoFramesPairDataset``
(``efc_mm/datasets/video_frames.py``) reads: one clip folder per video,
named after the video file, holding consecutively numbered frames::

    OUT_DIR/<video stem>/<video stem>_000000.png
    OUT_DIR/<video stem>/<video stem>_000001.png
    ...

Numbers count the *written* frames (0, 1, 2, ... without gaps, whatever
``--stride`` / ``--fps`` kept), so frame order is the last run of digits of
the name, and a label map for a frame is a PNG of the same stem in the
parallel label folder. The tool prints, per clip, which source frames were
kept. It never overwrites: a clip folder that already exists is an error
(delete it, or pick another OUT_DIR).

Decoding is OpenCV's (``cv2.VideoCapture``), so any format the installed
OpenCV reads works (mp4 / avi / mov / mkv / webm with the wheels' FFmpeg).

Examples::

    python tools/dataset_converters/video_to_frames.py drive.mp4 \\
        data/my_video/frames
    python tools/dataset_converters/video_to_frames.py videos/ \\
        data/my_video/frames --fps 10 --resize 640 360
    python tools/dataset_converters/video_to_frames.py drive.mp4 out \\
        --stride 3 --max-frames 200
"""
import argparse
import math
import os
import os.path as osp
import sys
from typing import List, Optional, Sequence

import cv2

#: file suffixes treated as videos when the input is a folder
VIDEO_EXTENSIONS = ('.mp4', '.avi', '.mov', '.mkv', '.webm', '.m4v', '.mpg',
                    '.mpeg', '.wmv', '.flv')
IMAGE_FORMATS = ('png', 'jpg')


def find_videos(source: str) -> List[str]:
    """The video file ``source``, or the video files of the folder
    ``source`` (sorted, no recursion).

    Raises:
        FileNotFoundError: ``source`` does not exist.
        ValueError: the folder holds no file with a video extension.
    """
    if not osp.exists(source):
        raise FileNotFoundError(f'video file or folder not found: {source}')
    if osp.isfile(source):
        return [source]
    videos = sorted(osp.join(source, n) for n in os.listdir(source)
                    if n.lower().endswith(VIDEO_EXTENSIONS)
                    and osp.isfile(osp.join(source, n)))
    if not videos:
        raise ValueError(f'folder {source} holds no video file (looked for '
                         f'{", ".join(VIDEO_EXTENSIONS)})')
    return videos


def clip_name(video: str) -> str:
    """Clip folder name of a video: its file name without extension."""
    return osp.splitext(osp.basename(video))[0]


def keep_frame(index: int, src_fps: Optional[float], stride: int,
               fps: Optional[float]) -> bool:
    """Whether source frame ``index`` is written.

    With ``fps``: frame ``i`` is kept when the output clock (ticking at
    ``fps``) passes a tick between source frames ``i - 1`` and ``i``, i.e.
    ``floor(i * fps / src_fps) > floor((i - 1) * fps / src_fps)``
    (frame 0 always), which keeps ``fps / src_fps`` of the frames, evenly
    spread. Otherwise every ``stride``-th frame, starting with frame 0.
    """
    if fps is None:
        return index % stride == 0
    if index == 0:
        return True
    r = fps / src_fps
    return math.floor(index * r + 1e-9) > math.floor((index - 1) * r + 1e-9)


def resize_frame(frame, size: Optional[Sequence[int]]):
    """``size = (W, H)``; ``-1`` for one of them keeps the aspect ratio."""
    if size is None:
        return frame
    w, h = int(size[0]), int(size[1])
    fh, fw = frame.shape[:2]
    if w == -1:
        w = max(1, int(round(fw * h / fh)))
    if h == -1:
        h = max(1, int(round(fh * w / fw)))
    if (w, h) == (fw, fh):
        return frame
    interp = cv2.INTER_AREA if w * h < fw * fh else cv2.INTER_LINEAR
    return cv2.resize(frame, (w, h), interpolation=interp)


def _open(video: str):
    cap = cv2.VideoCapture(video)
    if not cap.isOpened():
        cap.release()
        raise ValueError(f'OpenCV cannot open {video} as a video')
    return cap


def convert_video(video: str, out_dir: str, stride: int = 1,
                  fps: Optional[float] = None,
                  resize: Optional[Sequence[int]] = None,
                  max_frames: Optional[int] = None, ext: str = 'png',
                  progress: bool = True) -> dict:
    """Write the frames of one video to ``out_dir/<clip name>/``.

    Args:
        video (str): video file.
        out_dir (str): parent folder of the clip folder.
        stride (int): keep every ``stride``-th frame.
        fps (float, optional): keep frames at this rate instead
            (at most the source rate).
        resize (tuple, optional): ``(W, H)`` of the written frames, ``-1``
            for one side keeps the aspect ratio.
        max_frames (int, optional): stop after writing this many frames.
        ext (str): ``'png'`` (lossless) or ``'jpg'``.
        progress (bool): tqdm bar over the source frames (stderr).

    Returns:
        dict: ``clip``, ``folder``, ``written`` (count), ``source_frames``
        (index of the source frame of each written frame), ``src_fps`` and
        ``out_fps`` (None when unknown).

    Raises:
        FileExistsError: the clip folder exists already.
        ValueError: the video cannot be opened or yields no frame, or
            ``fps`` exceeds the source rate / the source rate is unknown.
    """
    name = clip_name(video)
    folder = osp.join(out_dir, name)
    if osp.exists(folder):
        raise FileExistsError(
            f'{folder} exists already (from an earlier run?); video_to_frames '
            f'never overwrites: delete it or choose another output folder')
    cap = _open(video)
    try:
        src_fps = cap.get(cv2.CAP_PROP_FPS)
        src_fps = float(src_fps) if src_fps and src_fps > 0 and \
            math.isfinite(src_fps) else None
        if fps is not None:
            if src_fps is None:
                raise ValueError(f'{video}: the container gives no frame '
                                 'rate, so --fps cannot pick frames; use '
                                 '--stride')
            if fps > src_fps + 1e-6:
                raise ValueError(f'{video}: --fps {fps} exceeds the source '
                                 f'rate {src_fps:g} (frames are never '
                                 'duplicated)')
        total = max(int(cap.get(cv2.CAP_PROP_FRAME_COUNT)), 0) or None
        bar = None
        if progress:
            from tqdm import tqdm
            bar = tqdm(total=total, unit='frame', desc=name)
        os.makedirs(folder)
        kept: List[int] = []
        index = 0
        while max_frames is None or len(kept) < max_frames:
            ok, frame = cap.read()
            if not ok or frame is None:
                break
            if keep_frame(index, src_fps, stride, fps):
                path = osp.join(folder, f'{name}_{len(kept):06d}.{ext}')
                if not cv2.imwrite(path, resize_frame(frame, resize)):
                    raise OSError(f'could not write {path}')
                kept.append(index)
            index += 1
            if bar is not None:
                bar.update(1)
        if bar is not None:
            bar.close()
    finally:
        cap.release()
    if not kept:
        os.rmdir(folder)
        raise ValueError(f'no frame could be decoded from {video}')
    out_fps = None
    if src_fps is not None:
        out_fps = fps if fps is not None else src_fps / stride
    return dict(clip=name, folder=folder, written=len(kept),
                source_frames=kept, src_fps=src_fps, out_fps=out_fps)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__.split('\n')[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog='Layout: OUT_DIR/<video stem>/<video stem>_NNNNNN.<ext>')
    parser.add_argument('source', help='video file, or folder of videos')
    parser.add_argument('out_dir', help='output folder (one clip folder per '
                        'video is created in it)')
    rate = parser.add_mutually_exclusive_group()
    rate.add_argument('--stride', type=int, default=1,
                      help='keep every N-th frame (default 1: all)')
    rate.add_argument('--fps', type=float, default=None,
                      help='keep frames at this rate (<= the source rate)')
    parser.add_argument('--resize', type=int, nargs=2, metavar=('W', 'H'),
                        help='resize frames to W x H (-1 for one side keeps '
                        'the aspect ratio)')
    parser.add_argument('--max-frames', type=int, default=None,
                        help='write at most N frames per video')
    parser.add_argument('--ext', choices=IMAGE_FORMATS, default='png',
                        help='image format (default png, lossless)')
    parser.add_argument('--no-progress', action='store_true')
    args = parser.parse_args(argv)
    if args.stride < 1:
        parser.error(f'--stride must be >= 1, got {args.stride}')
    if args.fps is not None and args.fps <= 0:
        parser.error(f'--fps must be > 0, got {args.fps}')
    if args.max_frames is not None and args.max_frames < 1:
        parser.error(f'--max-frames must be >= 1, got {args.max_frames}')
    if args.resize is not None and any(
            v == 0 or v < -1 for v in args.resize) or \
            args.resize is not None and args.resize == [-1, -1]:
        parser.error(f'--resize W H must be positive (or one of them -1), '
                     f'got {args.resize}')
    return args


def main(argv=None) -> List[dict]:
    args = parse_args(argv)
    videos = find_videos(args.source)
    # refuse before writing anything: existing or duplicate clip folders
    names = [clip_name(v) for v in videos]
    dup = sorted({n for n in names if names.count(n) > 1})
    if dup:
        raise ValueError(f'videos with the same name would share a clip '
                         f'folder: {dup} (in {args.source}); rename them')
    existing = [osp.join(args.out_dir, n) for n in names
                if osp.exists(osp.join(args.out_dir, n))]
    if existing:
        raise FileExistsError(
            'video_to_frames never overwrites; these clip folders exist '
            f'already: {", ".join(existing)}')
    os.makedirs(args.out_dir, exist_ok=True)
    results = []
    for video in videos:
        res = convert_video(video, args.out_dir, stride=args.stride,
                            fps=args.fps, resize=args.resize,
                            max_frames=args.max_frames, ext=args.ext,
                            progress=not args.no_progress)
        src = res['source_frames']
        rate = (f', {res["src_fps"]:g} -> {res["out_fps"]:g} fps'
                if res['out_fps'] else '')
        print(f'{video}: {res["written"]} frames -> {res["folder"]} '
              f'(source frames {src[0]}..{src[-1]}'
              f'{", every " + str(args.stride) if args.stride > 1 else ""}'
              f'{rate})')
        results.append(res)
    return results


if __name__ == '__main__':
    try:
        main()
    except (FileNotFoundError, FileExistsError, ValueError) as e:
        sys.exit(f'error: {e}')
