"""PairSegDataPreProcessor: pads pairs with mmseg's stack_batch (padding_size
in every frame's metainfo), and refuses non-finite input naming it."""
import numpy as np
import pytest
import torch
from mmengine.structures import PixelData
from mmseg.structures import SegDataSample

import efc_mm  # noqa: F401
from efc_mm.models import PairSegDataPreProcessor
from efc_mm.structures import PairDataSample


def _pair(h, w, seed=0, dtype=torch.uint8, path='clip/f{}.png'):
    g = torch.Generator().manual_seed(seed)
    x = torch.randint(0, 256, (2, 3, h, w), generator=g).to(dtype)
    s = PairDataSample()
    frames = []
    for k in range(2):
        f = SegDataSample(metainfo=dict(img_path=path.format(k + 1),
                                        img_shape=(h, w), ori_shape=(h, w)))
        f.gt_sem_seg = PixelData(
            data=torch.full((1, h, w), k, dtype=torch.long))
        frames.append(f)
    s.frame1, s.frame2 = frames
    s.gt_flow_fw = PixelData(data=torch.ones(2, h, w))
    s.gt_valid_fw = PixelData(data=torch.ones(1, h, w))
    s.set_metainfo(dict(img_shape=(h, w)))
    return x, s


def test_pairs_padded_with_padding_size_in_every_frame():
    pre = PairSegDataPreProcessor(mean=[0, 0, 0], std=[1, 1, 1],
                                  bgr_to_rgb=True, size_divisor=8,
                                  test_cfg=dict(size_divisor=8))
    (x1, s1), (x2, s2) = _pair(10, 13, 0), _pair(12, 9, 1)
    out = pre(dict(inputs=[x1, x2], data_samples=[s1, s2]), training=True)
    inputs = out['inputs']
    assert inputs.shape == (2, 2, 3, 16, 16)     # max 12x13 -> 16x16
    for x, s, b in zip((x1, x2), out['data_samples'], (0, 1)):
        h, w = x.shape[-2:]
        # independent: BGR->RGB, float, zero pad on the bottom / right
        ref = torch.nn.functional.pad(x[:, [2, 1, 0]].float(),
                                      (0, 16 - w, 0, 16 - h))
        assert torch.equal(inputs[b], ref)
        for k, fr in enumerate(s.frames):
            assert list(fr.padding_size) == [0, 16 - w, 0, 16 - h]
            assert tuple(fr.img_shape) == (h, w)
            assert not isinstance(fr.img_shape, torch.Size)
            assert tuple(fr.pad_shape) == (16, 16)
            seg = fr.gt_sem_seg.data
            assert seg.shape == (1, 16, 16)
            assert (seg[:, :h, :w] == k).all()
            assert (seg[:, h:] == 255).all() and (seg[:, :, w:] == 255).all()
        flow = s.gt_flow_fw.data
        assert flow.shape == (2, 16, 16) and flow[:, h:].abs().sum() == 0
        assert (s.gt_valid_fw.data[:, :h, :w] == 1).all()
        assert s.gt_valid_fw.data.sum() == h * w
        assert tuple(s.pad_shape) == (16, 16)


def test_pair_without_labels_or_samples():
    pre = PairSegDataPreProcessor(mean=[0, 0, 0], std=[1, 1, 1])
    x, s = _pair(6, 7)
    for f in s.frames:
        del f.gt_sem_seg
    out = pre(dict(inputs=[x], data_samples=[s]))
    assert out['inputs'].shape == (1, 2, 3, 6, 7)
    s = out['data_samples'][0]
    assert tuple(s.frame1.pad_shape) == (6, 7)
    assert list(s.frame2.padding_size) == [0, 0, 0, 0]
    out = pre(dict(inputs=[x]))
    assert out['inputs'].shape == (1, 2, 3, 6, 7)


@pytest.mark.parametrize('value', [float('nan'), float('inf')])
def test_non_finite_pair_is_refused_naming_sample_frame_and_file(value):
    pre = PairSegDataPreProcessor(mean=[0, 0, 0], std=[1, 1, 1])
    (x1, s1), (x2, s2) = [_pair(8, 8, i, torch.float32,
                                path=f'clip{i}/f{{}}.png') for i in (0, 1)]
    x2[1, :, 2:4, 2:4] = value
    with pytest.raises(ValueError) as e:
        pre(dict(inputs=[x1, x2], data_samples=[s1, s2]))
    msg = str(e.value)
    assert 'input 1 of the batch (frame 2, clip1/f2.png)' in msg
    assert '12 of 192 values are NaN or inf' in msg
    assert 'clip0' not in msg


def test_non_finite_single_frame_is_refused():
    pre = PairSegDataPreProcessor(mean=[0, 0, 0], std=[1, 1, 1])
    x = torch.rand(3, 5, 5)
    x[0, 0, 0] = float('nan')
    s = SegDataSample(metainfo=dict(img_path='a.png'))
    with pytest.raises(ValueError, match=r'input 0 of the batch \(a.png\)'):
        pre(dict(inputs=[x], data_samples=[s]))
    # finite float and uint8 inputs pass
    out = pre(dict(inputs=[torch.rand(3, 5, 5)], data_samples=[s]))
    assert torch.isfinite(out['inputs']).all()
    x = torch.from_numpy(np.full((3, 5, 5), 7, np.uint8))
    assert pre(dict(inputs=[x]))['inputs'].shape == (1, 3, 5, 5)
