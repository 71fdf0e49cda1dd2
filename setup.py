"""Ship ``tools/``, ``configs/`` and ``model-index.yml`` inside the package
as ``efc_mm/.mim/``.

``mim train efc_mm CONFIG`` / ``mim test`` look for
``<installed package dir>/.mim/tools/train.py`` and search configs under
``.mim/configs``; ``mim list`` / ``mim search`` read
``.mim/model-index.yml`` (OpenMMLab convention, as mmsegmentation's
setup.py does). A regular install copies them into the wheel; an editable
install (``pip install -e .``) links them from the source tree instead.
Everything else (including the packages ``efc_mm`` and ``efc_synthetic``)
is declared in ``pyproject.toml``.
"""
import os
import os.path as osp
import shutil

from setuptools import setup
from setuptools.command.build_py import build_py
from setuptools.command.editable_wheel import editable_wheel

HERE = osp.dirname(osp.abspath(__file__))
MIM_FOLDERS = ('tools', 'configs')
MIM_FILES = ('model-index.yml', )


def _copy_mim_folders(dst_root: str, symlink: bool) -> None:
    mim_dir = osp.join(dst_root, 'efc_mm', '.mim')
    os.makedirs(mim_dir, exist_ok=True)
    for name in MIM_FOLDERS:
        src = osp.join(HERE, name)
        dst = osp.join(mim_dir, name)
        if osp.islink(dst) or osp.isfile(dst):
            os.remove(dst)
        elif osp.isdir(dst):
            shutil.rmtree(dst)
        if symlink:
            os.symlink(osp.relpath(src, mim_dir), dst)
        else:
            shutil.copytree(src, dst, ignore=shutil.ignore_patterns(
                '__pycache__', '*.pyc'))
    for name in MIM_FILES:
        src = osp.join(HERE, name)
        dst = osp.join(mim_dir, name)
        if osp.islink(dst) or osp.isfile(dst):
            os.remove(dst)
        if symlink:
            os.symlink(osp.relpath(src, mim_dir), dst)
        else:
            shutil.copyfile(src, dst)


class BuildPyWithMim(build_py):
    """build_py that also copies tools/, configs/ and model-index.yml into
    efc_mm/.mim."""

    def run(self):
        super().run()
        if not self.editable_mode:
            _copy_mim_folders(self.build_lib, symlink=False)


class EditableWheelWithMim(editable_wheel):
    """editable_wheel that links efc_mm/.mim/{tools,configs,model-index.yml}
    in the source."""

    def run(self):
        _copy_mim_folders(HERE, symlink=True)
        super().run()


setup(cmdclass={'build_py': BuildPyWithMim,
                'editable_wheel': EditableWheelWithMim})
