"""Programmes, one class per module, registered by their ``type`` name.

Every module in this package is imported here, so a new programme is one new file: its class
registers itself and scenario files can name it at once.
"""

from __future__ import annotations

import importlib
import pkgutil

from model.interventions.base import REGISTRY, Intervention, Target

for _info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
    if _info.name != "base":
        importlib.import_module(f"{__name__}.{_info.name}")

__all__ = ["REGISTRY", "Intervention", "Target"]
