"""tools/pseudo_label.py end to end on a tiny synthetic world: the
quick-start EFC config with a fresh checkpoint (and a plain mmseg config),
label PNGs checked against argmax / softmax computed here in numpy from the
logits that mmseg's own ``inference_model`` returns."""
import os
import os.path as osp

import cv2
import numpy as np
import pytest

from conftest import fresh_checkpoint, load_script, tiny_world

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
QUICK = osp.join(REPO, 'configs', 'quickstart',
                 'psp_efc_tiny_synthetic_cpu.py')
TINY_SEG = osp.join(REPO, 'tests', 'data', 'configs', 'tiny_seg.py')


def _tool(*parts):
    return load_script('tools', *parts)


@pytest.fixture(scope='module')
def world(tmp_path_factory):
    return tiny_world(tmp_path_factory.mktemp('pl') / 'world')


@pytest.fixture(scope='module')
def quick_ckpt(tmp_path_factory):
    return fresh_checkpoint(QUICK, tmp_path_factory.mktemp('ckpt') /
                            'fresh.pth', '--seed', '1')


def softmax_np(logits):
    z = logits.astype(np.float64)
    z = np.exp(z - z.max(axis=0, keepdims=True))
    return z / z.sum(axis=0, keepdims=True)


def test_pseudo_labels_names_values_and_confidence(world, quick_ckpt,
                                                   tmp_path):
    from efc_mm.apis import init_model
    from mmseg.apis import inference_model

    pl = _tool('pseudo_label.py')
    frames = osp.join(world, 'leftImg8bit_sequence', 'val')
    out_all = str(tmp_path / 'all')
    written = pl.main([QUICK, quick_ckpt, frames, out_all, '--no-progress'])
    rels = sorted(
        osp.join(c, n) for c in os.listdir(frames)
        for n in os.listdir(osp.join(frames, c)))
    assert len(rels) == 4
    # same relative names, one PNG per frame
    assert written == [osp.join(out_all, r) for r in rels]

    # logits from mmseg's inference API, softmax / argmax in numpy
    model = init_model(QUICK, quick_ckpt)
    probs = {}
    for r in rels:
        logits = inference_model(model, osp.join(frames, r)).seg_logits.data
        probs[r] = softmax_np(logits.numpy())
    for r in rels:
        lab = cv2.imread(osp.join(out_all, r), cv2.IMREAD_UNCHANGED)
        assert lab.dtype == np.uint8 and lab.shape == (32, 64)
        assert lab.max() < 19
        np.testing.assert_array_equal(lab, probs[r].argmax(0))

    # threshold at the median confidence: about half the pixels -> 255
    conf = {r: p.max(0) for r, p in probs.items()}
    thr = float(np.median(np.concatenate([c.ravel() for c in conf.values()])))
    out_thr = str(tmp_path / 'thr')
    pl.main([QUICK, quick_ckpt, frames, out_thr, '--conf-thr', f'{thr!r}',
             '--no-progress'])
    n255 = n = 0
    for r in rels:
        lab = cv2.imread(osp.join(out_thr, r), cv2.IMREAD_UNCHANGED)
        expected = np.where(conf[r] >= thr, probs[r].argmax(0), 255)
        sure = np.abs(conf[r] - thr) > 1e-5  # float32 vs float64 at the edge
        np.testing.assert_array_equal(lab[sure], expected[sure])
        assert set(np.unique(lab)) <= set(range(19)) | {255}
        n255 += int((lab == 255).sum())
        n += lab.size
    assert 0.3 < n255 / n < 0.7

    # never overwrites unless told to keep existing files
    with pytest.raises(FileExistsError, match='--skip-existing'):
        pl.main([QUICK, quick_ckpt, frames, out_all, '--no-progress'])
    os.remove(osp.join(out_all, rels[0]))
    before = os.path.getmtime(osp.join(out_all, rels[1]))
    pl.main([QUICK, quick_ckpt, frames, out_all, '--skip-existing',
             '--no-progress'])
    assert osp.isfile(osp.join(out_all, rels[0]))
    assert os.path.getmtime(osp.join(out_all, rels[1])) == before


def test_pseudo_labels_with_a_plain_mmseg_model(world, tmp_path):
    pl = _tool('pseudo_label.py')
    ckpt = str(tmp_path / 'seg.pth')
    fresh_checkpoint(TINY_SEG, ckpt)
    frames = osp.join(world, 'leftImg8bit_sequence', 'val', 'synth0')
    out = str(tmp_path / 'labels')
    written = pl.main([TINY_SEG, ckpt, frames, out, '--suffix',
                       '_pseudo.png', '--no-progress'])
    assert len(written) == 4
    assert all(w.endswith('_leftImg8bit_pseudo.png') for w in written)
    lab = cv2.imread(written[0], cv2.IMREAD_UNCHANGED)
    assert lab.shape == (32, 64) and lab.max() < 4


def test_pseudo_label_errors(tmp_path, quick_ckpt):
    pl = _tool('pseudo_label.py')
    (tmp_path / 'empty').mkdir()
    with pytest.raises(ValueError, match='no image file under'):
        pl.main([QUICK, quick_ckpt, str(tmp_path / 'empty'),
                 str(tmp_path / 'o')])
    with pytest.raises(SystemExit):
        pl.main([QUICK, str(tmp_path / 'missing.pth'), str(tmp_path),
                 str(tmp_path / 'o')])
    with pytest.raises(SystemExit):
        pl.main([QUICK, quick_ckpt, str(tmp_path), str(tmp_path / 'o'),
                 '--conf-thr', '1.5'])
