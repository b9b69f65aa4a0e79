"""What one run produced, as pandas tables, and how it is written to disk.

``RunResult`` holds the city time series (one row per step), the neighbourhood table (one row
per neighbourhood per month), the summary (one row per outcome: per-year values and the whole
run) and the manifest. Nothing touches disk until :meth:`RunResult.save`; files are written to a
temporary folder and renamed into place, so a crash leaves no half-written run.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from model.metrics import CITY_OUTCOMES, HOOD_OUTCOMES, OUTCOMES, outcome
from model.scenario import Scenario, scenario_hash

if TYPE_CHECKING:
    from model.model import SecurityModel

__all__ = ["RunResult", "collect", "summarise", "environment", "git_commit"]


@dataclass
class RunResult:
    """Tables of one run; every table carries ``scenario`` and ``seed`` columns."""

    scenario: Scenario
    seed: int
    timeseries: pd.DataFrame
    neighbourhoods: pd.DataFrame
    summary: pd.DataFrame
    manifest: dict[str, Any] = field(default_factory=dict)

    def save(self, out_dir: str | Path, plot: bool = True) -> Path:
        """Write the run to ``out_dir`` atomically and return the folder."""
        out = Path(out_dir)
        out.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
        try:
            self.timeseries.to_parquet(tmp / "timeseries.parquet", index=False)
            self.neighbourhoods.to_parquet(tmp / "neighbourhoods.parquet", index=False)
            self.summary.to_csv(tmp / "summary.csv", index=False)
            (tmp / "scenario.yaml").write_text(self.scenario.to_yaml(), encoding="utf-8")
            (tmp / "manifest.json").write_text(json.dumps(self.manifest, indent=2, default=str), encoding="utf-8")
            if plot:
                from model.plots import run_figure

                fig = run_figure(self)
                fig.savefig(tmp / "main_series.png", dpi=110)
            if out.exists():
                shutil.rmtree(out)
            os.replace(tmp, out)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        return out


def git_commit() -> str | None:
    """The commit of the source tree the package runs from, if it is a git checkout."""
    here = Path(__file__).resolve().parent
    try:
        out = subprocess.run(["git", "-C", str(here), "rev-parse", "HEAD"], capture_output=True,
                             text=True, timeout=5, check=False)
    except (OSError, subprocess.SubprocessError):
        return None
    if out.returncode != 0:
        return None
    dirty = subprocess.run(["git", "-C", str(here), "status", "--porcelain", "--untracked-files=no"],
                           capture_output=True, text=True, timeout=5, check=False).stdout.strip()
    return out.stdout.strip() + ("-dirty" if dirty else "")


# Modules of the package a run's numbers do not depend on (presentation, analysis, running many runs);
# every other module, including any added later, counts as simulation code.
NOT_SIMULATION = frozenset({"dashboard", "analysis.py", "report.py", "plots.py", "cli.py", "batch_cli.py",
                            "__main__.py", "executors.py"})


@functools.cache
def code_version() -> str:
    """Fingerprint of the code a run's numbers depend on (16 hex digits).

    A sha256 over the source of the package's simulation modules and the versions of numpy (whose
    generators and math the draws go through) and Mesa. A run stored by other code is not reused: the
    same scenario and seed may give other numbers. Unlike the git commit it ignores edits to docs,
    tests, analysis and the dashboard, and sees uncommitted edits.
    """
    from importlib import metadata

    versions = {name: metadata.version(name) for name in ("numpy", "mesa")}
    return source_fingerprint(Path(__file__).resolve().parent, versions)


def source_fingerprint(root: Path, versions: dict[str, str]) -> str:
    """sha256 over the ``.py`` files under ``root`` but those in :data:`NOT_SIMULATION`, and ``versions``."""
    digest = hashlib.sha256()
    for path in sorted(root.rglob("*.py")):
        rel = path.relative_to(root)
        if rel.parts[0] in NOT_SIMULATION:
            continue
        digest.update(rel.as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
    digest.update(json.dumps(versions, sort_keys=True).encode())
    return digest.hexdigest()[:16]


def environment() -> dict[str, str]:
    """Versions of the packages a result depends on."""
    import platform
    from importlib import metadata

    versions = {"python": platform.python_version()}
    for name in ("safestreets", "mesa", "numpy", "pandas", "scipy", "networkx", "pydantic", "pyarrow"):
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


def summarise(timeseries: pd.DataFrame, steps_per_year: int) -> pd.DataFrame:
    """One row per outcome: the value of each year (sum of counts, mean of levels) and overall.

    ``all_years`` is the total of a count over the run, or the mean of a level; ``per_year`` is
    a count's annual average (equal to the level's mean for levels).
    """
    years = (timeseries["step"] // steps_per_year).astype(int)
    rows = []
    n_years = int(years.max()) + 1 if len(years) else 0
    for name in CITY_OUTCOMES:
        o = OUTCOMES[name]
        values = timeseries[name]
        by_year = values.groupby(years).sum() if o.is_count else values.groupby(years).mean()
        total = float(values.sum()) if o.is_count else float(values.mean())
        per_year = total / (len(values) / steps_per_year) if o.is_count and len(values) else total
        row = {"outcome": name, "label": o.label, "unit": o.unit, "kind": o.kind}
        for y in range(n_years):
            row[f"year_{y + 1}"] = float(by_year.get(y, np.nan))
        row["per_year"] = per_year
        row["all_years"] = total
        rows.append(row)
    return pd.DataFrame(rows)


def collect(model: SecurityModel) -> RunResult:
    """Turn a finished (or partly run) model into tables and a manifest."""
    rec = model.recorder
    steps = rec.steps_recorded
    sc = model.scenario
    ts = pd.DataFrame(rec.city[:steps], columns=list(CITY_OUTCOMES))
    ts.insert(0, "step", np.arange(steps))
    ts.insert(1, "day", (np.arange(steps) * model.step_days).astype(int))
    ts.insert(2, "year", ts["step"] / model.steps_per_year)
    ts.insert(0, "seed", model.seed)
    ts.insert(0, "scenario", sc.name)

    months = int(np.ceil(steps * 12 / model.steps_per_year)) if steps else 0
    table = rec.hood_table()[:months]  # (month, outcome, neighbourhood)
    k = model.world.n_neighbourhoods
    nb = pd.DataFrame(
        table.transpose(0, 2, 1).reshape(months * k, len(HOOD_OUTCOMES)), columns=list(HOOD_OUTCOMES)
    )
    nb.insert(0, "neighbourhood", np.tile(np.arange(k), months))
    nb.insert(0, "month", np.repeat(np.arange(months), k))
    nb.insert(0, "seed", model.seed)
    nb.insert(0, "scenario", sc.name)
    nb["residents"] = np.tile(model.world.residents, months)
    nb["disadvantage"] = np.tile(model.world.disadvantage, months)

    summary = summarise(ts, model.steps_per_year)
    summary.insert(0, "seed", model.seed)
    summary.insert(0, "scenario", sc.name)
    manifest = {
        "scenario": sc.name,
        "scenario_hash": scenario_hash(sc),
        "seed": model.seed,
        "steps": steps,
        "years": steps / model.steps_per_year,
        "residents": int(model.people.size),
        "neighbourhoods": k,
        "programmes": [p.display_name for p in model.programmes],
        "calibration": model.cal.as_dict(),
        "random_streams": model.streams.names(),
        "versions": environment(),
        "git_commit": git_commit(),
        "resolved_scenario": sc.model_dump(mode="json"),
        "outcomes": {name: {"label": outcome(name).label, "unit": outcome(name).unit,
                            "kind": outcome(name).kind} for name in CITY_OUTCOMES},
    }
    return RunResult(scenario=sc, seed=model.seed, timeseries=ts, neighbourhoods=nb, summary=summary,
                     manifest=manifest)
