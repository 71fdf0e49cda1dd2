"""tools/dataset_converters/video_to_frames.py on small videos written here
with OpenCV (mp4v in .mp4; FFV1 in .avi is lossless). Frame k of a test
video is uniformly grey at 20 * k, so the decoded mean identifies the
source frame."""
import importlib.util
import os
import os.path as osp
import subprocess
import sys

import cv2
import numpy as np
import pytest

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
TOOL = osp.join(REPO, 'tools', 'dataset_converters', 'video_to_frames.py')


def _load_tool():
    spec = importlib.util.spec_from_file_location('video_to_frames', TOOL)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


v2f = _load_tool()


def write_video(path, n=10, fps=10.0, size=(64, 48), fourcc='mp4v'):
    w, h = size
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*fourcc), fps,
                             (w, h))
    assert writer.isOpened(), f'OpenCV cannot write {fourcc} here'
    for k in range(n):
        frame = np.full((h, w, 3), 20 * k, np.uint8)
        frame[:4, :4] = 255 - 20 * k  # a corner patch: not a flat image
        writer.write(frame)
    writer.release()
    return str(path)


def source_index(img):
    """Source frame number from the grey level (away from the patch)."""
    return int(round(img[8:, 8:].mean() / 20.0))


def frames_of(folder):
    names = sorted(os.listdir(folder))
    return names, [cv2.imread(osp.join(folder, n)) for n in names]


def test_all_frames_in_order_and_size(tmp_path):
    video = write_video(tmp_path / 'drive.mp4')
    out = tmp_path / 'frames'
    res = v2f.main([video, str(out), '--no-progress'])
    assert res[0]['written'] == 10 and res[0]['source_frames'] == list(
        range(10))
    names, imgs = frames_of(out / 'drive')
    assert names == [f'drive_{k:06d}.png' for k in range(10)]
    assert [source_index(i) for i in imgs] == list(range(10))
    assert all(i.shape == (48, 64, 3) for i in imgs)


def test_stride_fps_resize_and_max_frames(tmp_path):
    video = write_video(tmp_path / 'clip.avi', n=10, fps=10.0,
                        fourcc='FFV1')
    res = v2f.main([video, str(tmp_path / 's'), '--stride', '3',
                    '--no-progress'])[0]
    _, imgs = frames_of(tmp_path / 's' / 'clip')
    assert res['source_frames'] == [0, 3, 6, 9]
    assert [source_index(i) for i in imgs] == [0, 3, 6, 9]
    assert res['out_fps'] == pytest.approx(10 / 3)
    # 10 fps -> 4 fps: 4 of every 10 frames, evenly spread
    res = v2f.main([video, str(tmp_path / 'f'), '--fps', '4',
                    '--no-progress'])[0]
    _, imgs = frames_of(tmp_path / 'f' / 'clip')
    assert res['source_frames'] == [0, 3, 5, 8]
    assert [source_index(i) for i in imgs] == [0, 3, 5, 8]
    # lossless codec: the pixels are exact
    assert (imgs[1][8:, 8:] == 60).all()
    res = v2f.main([video, str(tmp_path / 'r'), '--resize', '32', '-1',
                    '--max-frames', '2', '--ext', 'jpg', '--no-progress'])
    names, imgs = frames_of(tmp_path / 'r' / 'clip')
    assert names == ['clip_000000.jpg', 'clip_000001.jpg']
    assert imgs[0].shape == (24, 32, 3)


def test_folder_of_videos_and_refuses_to_overwrite(tmp_path):
    src = tmp_path / 'videos'
    src.mkdir()
    write_video(src / 'a.mp4', n=3)
    write_video(src / 'b.mp4', n=4)
    (src / 'notes.txt').write_text('not a video')
    out = tmp_path / 'out'
    res = v2f.main([str(src), str(out), '--no-progress'])
    assert [(r['clip'], r['written']) for r in res] == [('a', 3), ('b', 4)]
    assert sorted(os.listdir(out)) == ['a', 'b']
    before = sorted(os.listdir(out / 'a'))
    with pytest.raises(FileExistsError, match='never overwrites.*a'):
        v2f.main([str(src), str(out), '--no-progress'])
    assert sorted(os.listdir(out / 'a')) == before
    # the command line reports it as an error naming the folder
    proc = subprocess.run([sys.executable, TOOL, str(src / 'a.mp4'),
                           str(out), '--no-progress'],
                          capture_output=True, text=True)
    assert proc.returncode != 0
    assert 'exist' in proc.stderr and str(out / 'a') in proc.stderr


def test_bad_inputs_give_clear_errors(tmp_path):
    video = write_video(tmp_path / 'v.mp4', n=3, fps=10.0)
    with pytest.raises(ValueError, match='exceeds the source rate 10'):
        v2f.main([video, str(tmp_path / 'o'), '--fps', '30',
                  '--no-progress'])
    with pytest.raises(FileNotFoundError, match='nope.mp4'):
        v2f.main([str(tmp_path / 'nope.mp4'), str(tmp_path / 'o2')])
    empty = tmp_path / 'empty'
    empty.mkdir()
    with pytest.raises(ValueError, match='holds no video file'):
        v2f.main([str(empty), str(tmp_path / 'o3')])
    junk = tmp_path / 'junk.mp4'
    junk.write_bytes(b'not a video at all')
    with pytest.raises(ValueError, match='junk.mp4'):
        v2f.main([str(junk), str(tmp_path / 'o4'), '--no-progress'])
    assert not (tmp_path / 'o4' / 'junk').exists()
    with pytest.raises(SystemExit):
        v2f.main([video, str(tmp_path / 'o5'), '--stride', '0'])
