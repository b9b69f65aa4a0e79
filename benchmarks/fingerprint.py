"""Golden fingerprints of model output, to prove an optimisation changes no result.

For each scenario and seed, run :func:`model.api.run` and hash the city time series and the
neighbourhood table (the raw float arrays, byte for byte). Record before a change, compare after:

    python benchmarks/fingerprint.py --save /tmp/golden.json   # before
    python benchmarks/fingerprint.py --check /tmp/golden.json  # after: exit 1 if anything differs
"""

from __future__ import annotations

import argparse
import hashlib
import json
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


def fingerprints(scenarios=SCENARIOS, seeds=SEEDS, overrides=OVERRIDES, years=YEARS) -> dict[str, str]:
    """``{"<scenario>/seed-<s>/<table>": sha256}`` for every scenario, seed and table."""
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
    args = parser.parse_args(argv)
    current = fingerprints()
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
