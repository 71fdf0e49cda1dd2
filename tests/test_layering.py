"""Layering (issue 16 item 9): ``bench/`` and ``tests/`` import the package,
never each other; nothing in ``efc_mm/`` or ``tests/`` edits ``sys.path``
(tests load scripts with ``conftest.load_script``, shared helpers live in
:mod:`efc_mm.testing`)."""
import glob
import os.path as osp
import re

from conftest import REPO_ROOT

_SYS_PATH = re.compile(r'^\s*sys\.path\.(insert|append|extend)\(', re.M)


def _py(*parts):
    files = glob.glob(osp.join(REPO_ROOT, *parts, '**', '*.py'),
                      recursive=True)
    return sorted(f for f in files if '.mim' not in f.split(osp.sep))


def _read(path):
    with open(path, encoding='utf-8') as f:
        return f.read()


def test_no_sys_path_edits_in_the_package_or_the_tests():
    found = [osp.relpath(p, REPO_ROOT) for p in _py('efc_mm') + _py('tests')
             if _SYS_PATH.search(_read(p))]
    assert found == []


def test_bench_does_not_import_the_tests():
    bad = re.compile(r"^\s*(from|import)\s+(model_utils|conftest|tests)\b"
                     r"|osp\.join\(REPO,\s*'tests'\)", re.M)
    found = [osp.relpath(p, REPO_ROOT) for p in _py('bench')
             if bad.search(_read(p))]
    assert found == []


def test_tests_load_bench_scripts_by_path_only():
    bench_modules = {osp.splitext(osp.basename(p))[0] for p in _py('bench')}
    imports = re.compile(r'^\s*(?:from\s+(\w+)\s+import|import\s+(\w+))',
                         re.M)
    found = []
    for path in _py('tests'):
        for m in imports.finditer(_read(path)):
            name = m.group(1) or m.group(2)
            if name in bench_modules:
                found.append(f'{osp.relpath(path, REPO_ROOT)}: {name}')
    assert found == []


def test_testing_helpers_come_from_the_config_bases():
    from efc_mm.testing import model_bases_dir, pair_batch, tiny_model_cfg
    assert osp.isfile(osp.join(model_bases_dir(), 'psp_efc_r50-d8.py'))
    cfg = tiny_model_cfg('psp', num_classes=3)
    assert cfg['backbone']['depth'] == 18
    assert cfg['decode_head']['num_classes'] == 3
    inputs, samples = pair_batch(b=1, h=8, w=8)
    assert tuple(inputs.shape) == (1, 2, 3, 8, 8) and len(samples) == 1
