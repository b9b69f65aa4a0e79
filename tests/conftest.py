"""Shared test configuration.

Helpers for building small cities and paired comparisons live in ``tests/simkit.py`` (imported as
``import simkit``; this file's folder is on ``sys.path`` under pytest's default import mode).
Hypothesis runs derandomized with no deadline: examples are whole simulations, and CI must see
the same examples every time.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import settings

settings.register_profile("safestreets", deadline=None, derandomize=True, print_blob=True)
settings.load_profile("safestreets")

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def repo_root() -> Path:
    """The repository root (scenario files, experiments, docs)."""
    return ROOT


@pytest.fixture(scope="session")
def scenarios_dir() -> Path:
    """The shipped scenario files."""
    return ROOT / "scenarios"
