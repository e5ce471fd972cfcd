"""Command handlers, one module per Redis command group.

Importing this package imports every module in it, which registers each module's
declarations in :mod:`durakv.spec`.
"""

import importlib
import pkgutil

for _m in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
    if not _m.name.startswith("_"):
        importlib.import_module(f"{__name__}.{_m.name}")
