"""Golden fingerprints of model output, to prove an optimisation changes no result.

For each scenario and seed, run :func:`model.api.run` and hash the city time series and the
neighbourhood table (the raw float arrays, byte for byte). Record before a change, compare after:

    python benchmarks/fingerprint.py --save /tmp/golden.json   # before
    python benchmarks/fingerprint.py --check /tmp/golden.json  # after: exit 1 if anything differs

When others edit the tree at the same time, compare the edited files against their committed
version in one go instead: the "before" run imports HEAD's text of those modules, the "after"
run the working tree's, and everything else is the same tree:

    python benchmarks/fingerprint.py --vs-head model/processes/census.py

``--all`` fingerprints every scenario in ``scenarios/`` (each programme on its own, every target kind)
instead of the baseline and the full package only.
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.abc
import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
SCENARIOS = ("baseline.yaml", "carsi_package.yaml")
SEEDS = (0, 1)
OVERRIDES = ["city.residents=20000"]
YEARS = 0.5


def _digest(frame) -> str:
    """sha256 of the numeric columns of a table, in column order, as float64 bytes."""
    h = hashlib.sha256()
    for name in frame.columns:
        col = frame[name]
        if col.dtype.kind in "fiub":
            h.update(name.encode())
            h.update(np.ascontiguousarray(col.to_numpy(dtype=np.float64)).tobytes())
    return h.hexdigest()


class _Overlay(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Import the given modules from source text (their committed version) instead of the tree."""

    def __init__(self, sources: dict[str, str]) -> None:
        self.sources = sources

    def find_spec(self, name, path, target=None):  # noqa: ANN001, ANN201 (importlib protocol)
        if name in self.sources:
            return importlib.util.spec_from_loader(name, self, origin=f"HEAD:{name}")
        return None

    def create_module(self, spec):  # noqa: ANN001, ANN201
        return None

    def exec_module(self, module) -> None:  # noqa: ANN001
        exec(compile(self.sources[module.__name__], module.__spec__.origin, "exec"), module.__dict__)


def _head_sources(paths: list[str]) -> dict[str, str]:
    """``{module name: committed text}`` for repository paths like ``model/processes/census.py``."""
    out = {}
    for path in paths:
        text = subprocess.run(["git", "-C", str(ROOT), "show", f"HEAD:{path}"], capture_output=True,
                              text=True, check=True).stdout
        out[path.removesuffix(".py").replace("/", ".")] = text
    return out


def fingerprints(scenarios=SCENARIOS, seeds=SEEDS, overrides=OVERRIDES, years=YEARS) -> dict[str, str]:
    """``{"<scenario>/seed-<s>/<table>": sha256}`` for every scenario, seed and table."""
    overlay = os.environ.get("SAFESTREETS_FINGERPRINT_OVERLAY")
    if overlay:
        sys.meta_path.insert(0, _Overlay(json.loads(overlay)))
    from model.api import run

    out = {}
    for name in scenarios:
        for seed in seeds:
            r = run(ROOT / "scenarios" / name, seed=seed, years=years, overrides=list(overrides))
            out[f"{name}/seed-{seed}/timeseries"] = _digest(r.timeseries)
            out[f"{name}/seed-{seed}/neighbourhoods"] = _digest(r.neighbourhoods)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--save", type=Path, help="write the fingerprints to this JSON file")
    group.add_argument("--check", type=Path, help="compare with fingerprints saved earlier")
    group.add_argument("--vs-head", nargs="+", metavar="PATH",
                       help="compare the tree with these files at their committed (HEAD) version")
    parser.add_argument("--all", action="store_true", help="every scenario in scenarios/, not only the two main ones")
    args = parser.parse_args(argv)
    scenarios = sorted(p.name for p in (ROOT / "scenarios").glob("*.yaml")) if args.all else SCENARIOS
    if args.vs_head:
        env = {**os.environ, "SAFESTREETS_FINGERPRINT_OVERLAY": json.dumps(_head_sources(args.vs_head))}
        before = subprocess.run([sys.executable, __file__, *(["--all"] if args.all else [])], capture_output=True,
                                text=True, env=env, check=True)
        golden = dict(line.split() for line in before.stdout.splitlines())
        args.check = Path(os.devnull)
    current = fingerprints(scenarios)
    if args.vs_head:
        bad = [k for k in golden if golden[k] != current.get(k)]
        print(f"HEAD version of {', '.join(args.vs_head)} vs the working tree:")
        for key, value in current.items():
            print(f"{'DIFF' if key in bad else 'same'} {key} {value[:16]}")
        print("fingerprints identical" if not bad else f"{len(bad)} fingerprints differ")
        return 1 if bad else 0
    if args.save:
        args.save.write_text(json.dumps(current, indent=1))
    if args.check:
        golden = json.loads(args.check.read_text())
        bad = [k for k in golden if golden[k] != current.get(k)]
        for key, value in current.items():
            print(f"{'DIFF' if key in bad else 'same'} {key} {value[:16]}")
        print("fingerprints identical" if not bad else f"{len(bad)} fingerprints differ")
        return 1 if bad else 0
    for key, value in current.items():
        print(key, value)
    return 0


if __name__ == "__main__":
    sys.exit(main())
