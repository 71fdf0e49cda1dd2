"""Utilities: environment set-up (registration, runtime patches) and config
checks."""
from .config_check import check_config_types
from .set_env import import_all_modules, register_all_modules

__all__ = ['check_config_types', 'register_all_modules', 'import_all_modules']
