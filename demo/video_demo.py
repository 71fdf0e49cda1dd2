"""Segmentation, optical flow and occlusion of a video with an EFC model.

Writes, per frame, a panel ``segmentation overlay | flow (Middlebury
colours) | occlusion`` to a video and/or a folder of PNGs. The flow of a
frame goes to the next frame (the last frame shows its flow to the
previous one). Keys under the tiles: the flow colour wheel with the
magnitude of full colour, the 0..1 occlusion scale; a class legend when
the classes fit. One flow colour scale holds for the whole video
(``--max-flow``; by default the first pair's largest vector rounded up to
1, 2, 5, 10, ... px), so colours compare between frames.

Examples::

    python demo/video_demo.py video.mp4 configs/psp_efc_cityscapes.py \\
        work_dirs/psp/iter_80000.pth --out-video out.mp4
    python demo/video_demo.py data/camvid/val CONFIG CKPT --out-dir pngs/ \\
        --max-frames 20 --resize 480 360
"""
import argparse
import os
import os.path as osp
import sys

sys.path.insert(0, osp.abspath(osp.join(osp.dirname(__file__), '..')))

import cv2  # noqa: E402
import numpy as np  # noqa: E402

from efc_mm.utils import register_all_modules  # noqa: E402
from efc_mm.apis import (FrameSource, inference_video,  # noqa: E402
                         init_model)
from efc_mm.apis.inference import warn_random_weights  # noqa: E402
from efc_mm.visualization import make_panel, nice_max_flow  # noqa: E402


def parse_args(argv=None):
    from mmengine.config import DictAction
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('source', metavar='VIDEO_OR_DIR',
                        help='video file or folder of frames')
    parser.add_argument('config', help='model config file')
    parser.add_argument('checkpoint', nargs='?', default=None,
                        help='checkpoint (default: random weights)')
    parser.add_argument('--out-video', help='output video file (.mp4, .avi)')
    parser.add_argument('--out-dir', help='output folder of PNG panels')
    parser.add_argument('--device', default='cpu', help='e.g. cpu, cuda:0')
    parser.add_argument('--max-frames', type=int, default=None,
                        help='process at most N frames')
    parser.add_argument('--resize', type=int, nargs=2, metavar=('W', 'H'),
                        help='resize frames to W x H before inference')
    parser.add_argument('--fps', type=float, default=None,
                        help='output video fps (default: the source fps, '
                        'or 10 for a folder)')
    parser.add_argument('--max-flow', type=float, default=None,
                        help='flow magnitude (px) of full colour, the same '
                        'for every frame (default: from the first pair, '
                        'rounded up to 1, 2, 5, 10, ... px, at least 1 px)')
    parser.add_argument('--opacity', type=float, default=0.5,
                        help='segmentation overlay opacity in [0, 1]')
    parser.add_argument('--no-flow', action='store_true',
                        help='segmentation only (any mmseg model)')
    parser.add_argument('--no-progress', action='store_true')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override config settings, key=value')
    args = parser.parse_args(argv)
    if not args.out_video and not args.out_dir:
        parser.error('nothing to write: give --out-video and/or --out-dir')
    return args


class FlowScale:
    """One flow colour scale for a whole video: ``max_flow`` when given,
    else fixed at the first flow seen (its largest vector rounded up by
    :func:`~efc_mm.visualization.nice_max_flow`, at least 1 px). Counts
    the vectors beyond it (drawn darker, Middlebury style)."""

    def __init__(self, max_flow=None):
        if max_flow is not None and not max_flow > 0:
            raise ValueError(f'--max-flow must be > 0, got {max_flow}')
        self.value = max_flow
        self.given = max_flow is not None
        self.total = 0
        self.beyond = 0

    def __call__(self, flow) -> float:
        radius = np.hypot(flow[..., 0], flow[..., 1])
        radius = radius[np.isfinite(radius)]
        if self.value is None:
            self.value = nice_max_flow(float(radius.max()) if radius.size
                                       else 0.0)
            print(f'flow colour scale: {self.value:g} px = full colour, '
                  'fixed for every frame (set it with --max-flow)')
        self.total += radius.size
        self.beyond += int((radius > self.value).sum())
        return self.value


def _panel(res, model, args, scale):
    titles = ['segmentation']
    max_flow = None
    if res['flow'] is not None:
        titles += [f'flow to {res["flow_to"]}', 'occlusion']
        max_flow = scale(res['flow'])
    return make_panel(res['frame'], res['seg'], res['flow'], res['occ'],
                      dataset_meta=getattr(model, 'dataset_meta', None),
                      max_flow=max_flow, alpha=args.opacity,
                      titles=titles)


class _VideoSink:
    """Lazily opened cv2.VideoWriter (the frame size is known at frame 1)."""

    def __init__(self, path: str, fps: float):
        self.path, self.fps, self.writer = path, fps, None

    def write(self, panel):
        if self.writer is None:
            os.makedirs(osp.dirname(osp.abspath(self.path)), exist_ok=True)
            ext = osp.splitext(self.path)[1].lower()
            fourcc = cv2.VideoWriter_fourcc(*('MJPG' if ext == '.avi'
                                              else 'mp4v'))
            h, w = panel.shape[:2]
            self.writer = cv2.VideoWriter(self.path, fourcc, self.fps, (w, h))
            if not self.writer.isOpened():
                raise OSError(f'OpenCV cannot write video {self.path} '
                              '(try an .avi or .mp4 name)')
        self.writer.write(panel)

    def close(self):
        if self.writer is not None:
            self.writer.release()


def main(argv=None) -> dict:
    """Run the demo; returns ``dict(frames=n, video=path, pngs=[...])``."""
    args = parse_args(argv)
    register_all_modules()  # registries + runtime patches (efc_mm.compat)
    if args.checkpoint is None:
        warn_random_weights(args.config)
    model = init_model(args.config, args.checkpoint, device=args.device,
                       cfg_options=args.cfg_options)
    results = inference_video(model, args.source, with_flow=not args.no_flow,
                              progress=not args.no_progress,
                              max_frames=args.max_frames, resize=args.resize)
    fps = args.fps or FrameSource(args.source, max_frames=1).fps or 10.0
    sink = _VideoSink(args.out_video, fps) if args.out_video else None
    if args.out_dir:
        os.makedirs(args.out_dir, exist_ok=True)
    pngs, n = [], 0
    scale = FlowScale(args.max_flow)
    try:
        for res in results:
            panel = _panel(res, model, args, scale)
            if sink is not None:
                sink.write(panel)
            if args.out_dir:
                stem = osp.splitext(res['name'])[0]
                path = osp.join(args.out_dir, f'{res["index"]:06d}_{stem}.png')
                if not cv2.imwrite(path, panel):
                    raise OSError(f'could not write {path}')
                pngs.append(path)
            n += 1
    finally:
        if sink is not None:
            sink.close()
    print(f'{n} frames -> ' + ', '.join(
        p for p in (args.out_video, args.out_dir) if p))
    if scale.total and scale.beyond:
        print(f'{100.0 * scale.beyond / scale.total:.2f}% of the flow vectors '
              f'exceed {scale.value:g} px (drawn darker); a larger --max-flow '
              'shows them in full')
    return dict(frames=n, video=args.out_video, pngs=pngs,
                max_flow=scale.value)


if __name__ == '__main__':
    from efc_mm.utils.cli import run_main
    run_main(main, FileNotFoundError, ValueError, OSError)
