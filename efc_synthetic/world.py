"""Writing the synthetic world to disk in Cityscapes layout.

Layout (see ``docs/design.md``, "The synthetic world on disk"), with
``{stem} = {city}_{seq:06d}_{frame:06d}`` and ``{d}`` in ``fw``, ``bw``::

    leftImg8bit_sequence/{split}/{city}/{stem}_leftImg8bit.png     all frames
    leftImg8bit/{split}/{city}/{stem}_leftImg8bit.png              frame lf
    gtFine/{split}/{city}/{stem}_gtFine_labelTrainIds.png          frame lf
    gtFine_sequence/{split}/{city}/{stem}_gtFine_labelTrainIds.png all frames
    flow_occ/{split}/{city}/{stem}_flow_{d}.png                    all frames
    flow_noc/{split}/{city}/{stem}_flow_{d}.png                    all frames
    occlusion/{split}/{city}/{stem}_occ_{d}.png                    all frames
    meta.json

``lf`` is the labelled frame (19 by default). Every frame has both a
forward (frame -> frame + 1) and a backward (frame -> frame - 1) flow: the
scene is also rendered at the virtual frames -1 and N (not written). Flow is
a KITTI 16-bit PNG (:func:`efc_synthetic.flow_png.write_flow_kitti`); in
``flow_occ`` valid = 1 everywhere, in ``flow_noc`` valid = 0 where the pixel
is occluded in the target frame. Occlusion PNGs are uint8 {0, 255},
255 = occluded. Images are 8-bit BGR PNGs as OpenCV writes them.
Train cities are ``synth0 .. synth{k-1}``, val cities continue the numbering
(no city is in both splits, as in Cityscapes). The ``k``-th snippet of a
split (``split_idx`` 0 = train, 1 = val) is
``render_snippet((seed, split_idx, k), height, width, frames)``, so any file
can be reproduced in memory.
"""
import json
import multiprocessing as mp
import os
import os.path as osp
import shutil
import tempfile

import cv2
import numpy as np

from .classes import CLASSES, IGNORE_INDEX, PALETTE, USED_TRAIN_IDS
from .flow_png import write_flow_kitti
from .render import render_snippet

__all__ = ['generate_synthetic_world', 'ensure_synthetic_world',
           'world_meta', 'snippet_files', 'GENERATOR_VERSION']

GENERATOR = 'efc_synthetic'
#: names earlier releases wrote to meta.json (the generator was
#: efc_mm.datasets.synthetic); their worlds are the same and stay valid
_ACCEPTED_GENERATORS = (GENERATOR, 'efc_mm.datasets.synthetic')
#: bump when the rendered content changes (invalidates existing worlds)
GENERATOR_VERSION = '1.0'
#: OpenCV's default PNG settings are its fastest (low compression)
_PNG = []
_SPLITS = ('train', 'val')


def _check_args(num_train_snippets, num_val_snippets, height, width,
                frames_per_snippet, labelled_frame, snippets_per_city):
    for name, v, lo in (('num_train_snippets', num_train_snippets, 0),
                        ('num_val_snippets', num_val_snippets, 0),
                        ('height', height, 16), ('width', width, 16),
                        ('frames_per_snippet', frames_per_snippet, 2),
                        ('snippets_per_city', snippets_per_city, 1)):
        if not isinstance(v, (int, np.integer)) or isinstance(v, bool):
            raise TypeError(f'{name} must be an int, got {v!r}')
        if v < lo:
            raise ValueError(f'{name} must be >= {lo}, got {v}')
    if height > 4096 or width > 8192:
        raise ValueError(f'image size {height}x{width} is unreasonably large'
                         ' for the synthetic world (max 4096x8192)')
    if num_train_snippets + num_val_snippets == 0:
        raise ValueError('the world needs at least one snippet')
    if not 0 <= labelled_frame < frames_per_snippet:
        raise ValueError(f'labelled_frame must be in [0, '
                         f'{frames_per_snippet - 1}], got {labelled_frame}')


def _snippet_list(num_train_snippets, num_val_snippets, snippets_per_city):
    """``[(split, split_idx, city, seq, global_idx)]`` in a fixed order."""
    out, city0 = [], 0
    for split_idx, (split, n) in enumerate(
            zip(_SPLITS, (num_train_snippets, num_val_snippets))):
        for k in range(n):
            city = f'synth{city0 + k // snippets_per_city}'
            out.append((split, split_idx, city, k % snippets_per_city, k))
        city0 += -(-n // snippets_per_city)
    return out


def world_meta(num_train_snippets=24, num_val_snippets=6, height=256,
               width=512, frames_per_snippet=30, labelled_frame=19, seed=0,
               snippets_per_city=6):
    """The ``meta.json`` content a world with these settings has (used to
    decide whether an existing world is up to date)."""
    snippets = _snippet_list(num_train_snippets, num_val_snippets,
                             snippets_per_city)
    splits = {}
    for split, n in zip(_SPLITS, (num_train_snippets, num_val_snippets)):
        cities = {}
        for s, _, city, _, _ in snippets:
            if s == split:
                cities[city] = cities.get(city, 0) + 1
        splits[split] = dict(
            num_snippets=n, cities=cities,
            snippets=[f'{c}_{q:06d}' for s, _, c, q, _ in snippets
                      if s == split])
    return dict(
        generator=GENERATOR, version=GENERATOR_VERSION, seed=int(seed),
        height=int(height), width=int(width),
        frames_per_snippet=int(frames_per_snippet),
        labelled_frame=int(labelled_frame),
        snippets_per_city=int(snippets_per_city), splits=splits,
        classes=list(CLASSES), palette=PALETTE,
        used_train_ids=list(USED_TRAIN_IDS), ignore_index=IGNORE_INDEX,
        image_format='8-bit BGR PNG (cv2.imwrite)',
        flow_format='KITTI 16-bit PNG: u,v = (value - 2^15) / 64, '
        'third channel valid',
        flow_fw='frame -> frame + 1 (every frame; the last frame points to '
        'a rendered but unsaved frame N)',
        flow_bw='frame -> frame - 1 (every frame; the first frame points '
        'to a rendered but unsaved frame -1)',
        flow_occ_valid='1 everywhere', flow_noc_valid='0 where occluded',
        occlusion='uint8 PNG {0, 255}, 255 = occluded in the target frame '
        '(hidden by a nearer surface or outside the image)')


def snippet_files(root, split, city, seq, frame, labelled_frame=19):
    """Paths of every file of one frame of one snippet, as a dict (keys
    ``image``, ``label``, ``flow_occ_fw``, ``flow_occ_bw``, ``flow_noc_fw``,
    ``flow_noc_bw``, ``occ_fw``, ``occ_bw`` and, for the labelled frame,
    ``image_labelled`` and ``label_labelled``)."""
    stem = f'{city}_{seq:06d}_{frame:06d}'

    def p(folder, suffix):
        return osp.join(root, folder, split, city, f'{stem}_{suffix}.png')

    files = dict(image=p('leftImg8bit_sequence', 'leftImg8bit'),
                 label=p('gtFine_sequence', 'gtFine_labelTrainIds'))
    for d in ('fw', 'bw'):
        files[f'flow_occ_{d}'] = p('flow_occ', f'flow_{d}')
        files[f'flow_noc_{d}'] = p('flow_noc', f'flow_{d}')
        files[f'occ_{d}'] = p('occlusion', f'occ_{d}')
    if frame == labelled_frame:
        files['image_labelled'] = p('leftImg8bit', 'leftImg8bit')
        files['label_labelled'] = p('gtFine', 'gtFine_labelTrainIds')
    return files


def _imwrite(path, img):
    if not cv2.imwrite(path, img, _PNG):
        raise OSError(f'could not write {path}')


def _write_snippet(task):
    """Render one snippet and write all its files (runs in a worker)."""
    (root, split, split_idx, city, seq, global_idx, seed, height, width,
     num_frames, labelled_frame) = task
    out = render_snippet((int(seed), split_idx, global_idx), height, width,
                         num_frames)
    for folder in ('leftImg8bit_sequence', 'gtFine_sequence', 'flow_occ',
                   'flow_noc', 'occlusion', 'leftImg8bit', 'gtFine'):
        os.makedirs(osp.join(root, folder, split, city), exist_ok=True)
    for t in range(num_frames):
        files = snippet_files(root, split, city, seq, t, labelled_frame)
        _imwrite(files['image'], out['images'][t])
        _imwrite(files['label'], out['labels'][t])
        for d in ('fw', 'bw'):
            flow, occ = out[f'flow_{d}'][t], out[f'occ_{d}'][t]
            defined = out[f'valid_{d}'][t]
            write_flow_kitti(files[f'flow_occ_{d}'], flow, defined)
            write_flow_kitti(files[f'flow_noc_{d}'], flow, defined & ~occ)
            _imwrite(files[f'occ_{d}'], occ.astype(np.uint8) * 255)
        if t == labelled_frame:
            shutil.copyfile(files['image'], files['image_labelled'])
            shutil.copyfile(files['label'], files['label_labelled'])
    return f'{city}_{seq:06d}'


def _worker_init():
    cv2.setNumThreads(1)


def _run_pool(tasks, workers):
    """Run :func:`_write_snippet` over ``tasks`` in ``workers`` processes.

    With ``fork``, OpenCV's thread pool must not be alive at fork time (a
    forked child that touches an inherited pool deadlocks), so the parent
    drops to one OpenCV thread while the pool runs (the children inherit
    that) and restores its setting afterwards. Elsewhere ``spawn`` is used.
    """
    if 'fork' in mp.get_all_start_methods():
        ctx, init = mp.get_context('fork'), None
    else:
        ctx, init = mp.get_context('spawn'), _worker_init
    prev = cv2.getNumThreads()
    cv2.setNumThreads(1)
    try:
        with ctx.Pool(workers, initializer=init) as pool:
            for _ in pool.imap_unordered(_write_snippet, tasks):
                pass
    finally:
        cv2.setNumThreads(prev)


def _is_our_world(path):
    try:
        with open(osp.join(path, 'meta.json')) as f:
            return json.load(f).get('generator') in _ACCEPTED_GENERATORS
    except (OSError, ValueError, AttributeError):
        return False


def generate_synthetic_world(out_dir, num_train_snippets=24,
                             num_val_snippets=6, height=256, width=512,
                             frames_per_snippet=30, labelled_frame=19,
                             seed=0, workers=None, snippets_per_city=6):
    """Render a synthetic street-video world to ``out_dir`` (Cityscapes
    layout, see the module docstring), replacing any world already there.

    The world is written to a temporary sibling folder and renamed into
    place once complete (``meta.json`` last), so an interrupted run never
    leaves a half world that looks complete. The same arguments (``workers``
    aside) give byte-identical files.

    Args:
        out_dir (str): target folder. If it exists it must be empty or hold
            a world written by this generator (anything else is refused).
        num_train_snippets, num_val_snippets (int): snippets per split.
        height, width (int): image size.
        frames_per_snippet (int): frames per snippet (30 in Cityscapes).
        labelled_frame (int): the frame copied to ``leftImg8bit`` /
            ``gtFine`` (19 in Cityscapes).
        seed (int): world seed.
        workers (int, optional): processes (default: all CPUs, at most one
            per snippet); 0 or 1 renders in this process.
        snippets_per_city (int): snippets per city folder.

    Returns:
        str: absolute path of the world.
    """
    _check_args(num_train_snippets, num_val_snippets, height, width,
                frames_per_snippet, labelled_frame, snippets_per_city)
    out_dir = osp.abspath(osp.expanduser(str(out_dir)))
    parent = osp.dirname(out_dir)
    try:
        os.makedirs(parent, exist_ok=True)
    except OSError as e:
        raise PermissionError(
            f'cannot create the parent folder of the synthetic world '
            f'{out_dir}: {e}') from e
    if not os.access(parent, os.W_OK | os.X_OK):
        raise PermissionError(f'synthetic world: {parent} is not writable')
    if osp.exists(out_dir):
        if not osp.isdir(out_dir):
            raise FileExistsError(f'{out_dir} exists and is not a folder')
        if os.listdir(out_dir) and not _is_our_world(out_dir):
            raise FileExistsError(
                f'{out_dir} exists and does not hold a synthetic world '
                '(no meta.json of efc_synthetic); refusing to '
                'overwrite it: delete it or choose another folder')
    meta = world_meta(num_train_snippets, num_val_snippets, height, width,
                      frames_per_snippet, labelled_frame, seed,
                      snippets_per_city)
    tmp = tempfile.mkdtemp(prefix=f'.{osp.basename(out_dir)}.tmp-',
                           dir=parent)
    try:
        tasks = [(tmp, split, split_idx, city, seq, gidx, seed, height,
                  width, frames_per_snippet, labelled_frame)
                 for split, split_idx, city, seq, gidx in _snippet_list(
                     num_train_snippets, num_val_snippets,
                     snippets_per_city)]
        if workers is None:
            workers = os.cpu_count() or 1
        workers = max(1, min(int(workers), len(tasks)))
        if workers == 1:
            for task in tasks:
                _write_snippet(task)
        else:
            _run_pool(tasks, workers)
        with open(osp.join(tmp, 'meta.json'), 'w') as f:
            json.dump(meta, f, indent=1, sort_keys=True)
        os.chmod(tmp, 0o755)
        if osp.exists(out_dir):
            old = tempfile.mkdtemp(prefix=f'.{osp.basename(out_dir)}.old-',
                                   dir=parent)
            os.rename(out_dir, osp.join(old, 'w'))
            os.rename(tmp, out_dir)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.rename(tmp, out_dir)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return out_dir


def ensure_synthetic_world(out_dir, **kwargs):
    """Generate the world unless ``out_dir/meta.json`` already describes a
    complete world with exactly these settings (idempotent; cheap when up to
    date). Takes :func:`generate_synthetic_world`'s keyword arguments.

    Returns:
        str: absolute path of the world.
    """
    out_dir = osp.abspath(osp.expanduser(str(out_dir)))
    gen_kwargs = dict(kwargs)
    workers = gen_kwargs.pop('workers', None)
    names = ('num_train_snippets', 'num_val_snippets', 'height', 'width',
             'frames_per_snippet', 'labelled_frame', 'seed',
             'snippets_per_city')
    unknown = set(gen_kwargs) - set(names)
    if unknown:
        raise TypeError(f'unknown arguments {sorted(unknown)}')
    expected = json.loads(json.dumps(world_meta(**gen_kwargs)))

    def up_to_date():
        try:
            with open(osp.join(out_dir, 'meta.json')) as f:
                found = json.load(f)
        except (OSError, ValueError):
            return False
        return _same_world(found, expected)

    if up_to_date():
        return out_dir
    # several processes (e.g. distributed ranks) may call this at once: one
    # generates, the others wait on the lock and then find it up to date
    parent = osp.dirname(out_dir)
    os.makedirs(parent, exist_ok=True)
    with _file_lock(osp.join(parent, f'.{osp.basename(out_dir)}.lock')):
        if up_to_date():
            return out_dir
        return generate_synthetic_world(out_dir, workers=workers,
                                        **gen_kwargs)


def _same_world(found, expected):
    """Whether meta.json content ``found`` describes the world
    ``expected`` describes; the generator's old name is accepted."""
    if not isinstance(found, dict) or \
            found.get('generator') not in _ACCEPTED_GENERATORS:
        return False
    return dict(found, generator=expected['generator']) == expected


class _file_lock:
    """Exclusive advisory lock on ``path`` (``fcntl.flock``; a no-op where
    fcntl does not exist)."""

    def __init__(self, path):
        self.path, self.fd = path, None

    def __enter__(self):
        try:
            import fcntl
        except ImportError:  # pragma: no cover (Windows)
            return self
        try:
            self.fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as e:
            raise PermissionError(
                f'synthetic world: cannot create lock file {self.path}: '
                f'{e}') from e
        fcntl.flock(self.fd, fcntl.LOCK_EX)
        return self

    def __exit__(self, *exc):
        if self.fd is not None:
            import fcntl
            fcntl.flock(self.fd, fcntl.LOCK_UN)
            os.close(self.fd)
            self.fd = None
