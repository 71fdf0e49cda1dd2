"""Choose PyTorch's CPU thread count for the tools (train / test).

PyTorch starts one intra-op thread per physical core. On a machine whose
cores are busy with other work that oversubscribes them: the quick start
took 31 min 46 s on a loaded 2-core machine, against 1 min 58 s quiet, and
one thread made an iteration about 3x faster there. The tools therefore
choose the thread count when nobody else did:

1. ``--threads N`` (tools' option): N threads.
2. ``OMP_NUM_THREADS`` set in the environment: PyTorch already follows it;
   nothing changes.
3. A CUDA device is used or a distributed launcher runs the job (torchrun
   and mmengine set one thread per process): nothing changes.
4. Otherwise the cores that are free: the CPUs this process may run on
   (``os.sched_getaffinity``) minus the 1-minute load average, rounded, at
   least 1 and at most PyTorch's default.

Dataloader workers run one PyTorch thread each (PyTorch sets it in every
worker) and OpenCV threads come from ``env_cfg.mp_cfg.opencv_num_threads``
(0 in efc_mm's runtime: no OpenCV threads), so only the main process is set
here.

The thread count changes the numbers of a run: with another count the float
reductions add in another order, the losses differ in the last bits from
the first iterations on and a short run ends elsewhere (the quick start,
seed 0, 400 iterations: mIoU 24.94 with 1 thread, 27.16 with 2). A run is
bit-identical at a fixed seed only at a fixed thread count (and CPU kind
and software versions; ``tests/test_determinism.py``). Rule 4 follows the
load, so its log line says so: pass ``--threads N`` (or set
``OMP_NUM_THREADS``) to reproduce a run.
"""
import os
from typing import Optional, Tuple

import torch

__all__ = ['free_cpu_cores', 'choose_cpu_threads']


def _usable_cpus() -> int:
    """CPUs this process may run on (its affinity mask where supported)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # macOS, Windows
        return os.cpu_count() or 1


def free_cpu_cores() -> Tuple[int, int, float]:
    """``(free, usable, load)``: the usable CPUs minus the 1-minute load
    average (rounded, at least 1), the usable CPUs, and that load average
    (0.0 where the OS gives none)."""
    usable = _usable_cpus()
    try:
        load = os.getloadavg()[0]
    except (AttributeError, OSError):
        load = 0.0
    return max(1, min(usable, int(usable - load + 0.5))), usable, load


def choose_cpu_threads(threads: Optional[int] = None,
                       device: Optional[str] = None,
                       distributed: bool = False) -> str:
    """Set ``torch.set_num_threads`` by the rules of the module docstring.

    Args:
        threads (int, optional): the user's ``--threads``; wins over
            everything. Must be >= 1.
        device (str, optional): ``'cuda'`` or ``'cpu'``; default: CUDA if
            available.
        distributed (bool): launched by a distributed launcher.

    Returns:
        str: one line saying what was chosen and why (for the log).
    """
    if threads is not None:
        if threads < 1:
            raise ValueError(f'--threads must be >= 1, got {threads}')
        torch.set_num_threads(threads)
        # child processes (e.g. spawned workers) inherit the choice
        os.environ['OMP_NUM_THREADS'] = str(threads)
        return f'CPU threads: {threads} (--threads)'
    if 'OMP_NUM_THREADS' in os.environ:
        return (f'CPU threads: {torch.get_num_threads()} (OMP_NUM_THREADS='
                f'{os.environ["OMP_NUM_THREADS"]} from the environment)')
    if device is None:
        device = 'cuda' if torch.cuda.is_available() else 'cpu'
    if device != 'cpu' or distributed:
        why = 'distributed launcher' if distributed else 'CUDA run'
        return (f'CPU threads: {torch.get_num_threads()} (PyTorch default, '
                f'{why}; --threads N to change)')
    default = torch.get_num_threads()
    free, usable, load = free_cpu_cores()
    chosen = max(1, min(default, free))
    torch.set_num_threads(chosen)
    return (f'CPU threads: {chosen} (cores free: {usable} usable, 1-min load '
            f'average {load:.2f}; PyTorch default {default}; dataloader '
            'workers 1 each; the numbers of a run depend on the thread '
            'count: --threads N or OMP_NUM_THREADS to fix it)')
