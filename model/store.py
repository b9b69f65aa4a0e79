"""The results store of an experiment: one folder, one atomic sub-folder per finished run.

Layout of ``results/<experiment>/``::

    manifest.json                 the experiment as resolved (see below); rewritten atomically
    runs/<run_id>/run.json        one finished run: ids, seed, point, status, error, timing, git commit
    runs/<run_id>/summary.parquet         (status "ok" only) the run's tidy summary
    runs/<run_id>/timeseries.parquet      (status "ok" only) the city, one row per step, float32
    runs/<run_id>/neighbourhoods.parquet  (status "ok" only) one row per neighbourhood per month

A run folder is built under ``runs/.tmp-<run_id>-*`` and renamed into place with ``os.replace``,
so after any crash (even SIGKILL) a run is either wholly there or absent; stray ``.tmp-*`` folders
are ignored by readers and removed when the experiment runs again. A run whose ``run.json`` says
``"status": "ok"`` is not run again unless the code has changed since (its ``"code"``, the
simulation's source fingerprint, differs: see ``model.results.code_version``); a failed run is tried
again on the next start.

``run_id`` = first 16 hex digits of sha256 over the JSON of (scenario name, the scenario as
resolved — after ``--set`` overrides, ``years`` and the point's parameter values —, the point's
index and all its parameter values, the seed). Same inputs, same id, whichever machine or executor
ran it.

Table contract (what :func:`load_results` returns; ``model.analysis`` relies on it)
----------------------------------------------------------------------------------

``load_results(path)`` returns a :class:`Results` with:

``.runs`` — one row per run (ok or failed), sorted by scenario, point, rep:
    ``run_id`` (str), ``scenario`` (str), ``rep`` (int, replication 0..R-1), ``seed`` (int),
    ``point`` (int, index of the parameter point, 0 when nothing is swept), then one column per
    swept parameter named by its dotted path (e.g. ``interventions.0.coverage``, float; NaN where
    the parameter does not apply to that scenario), ``status`` ("ok" | "failed"),
    ``error`` (str, "" when ok), ``seconds`` (float, wall time of the run; 0 for a shared run),
    ``same_as`` (str: the run_id whose simulation this run shares, "" when it was simulated itself —
    runs with the same scenario, resolved data and seed at different points are simulated once,
    see :func:`model.runner.execute`).

``.summary`` — tidy, one row per ok run per outcome:
    ``run_id``, ``scenario``, ``rep``, ``seed``, ``point``, ``outcome`` (str, a name from
    ``model.metrics.CITY_OUTCOMES``, including ``cost_usd``), ``value`` (float64): exactly
    ``model.results.summarise(...)["per_year"]`` — the annual average for count outcomes
    (homicides, crimes, cost_usd, ...) and the horizon mean for level outcomes (fear, trust,
    homicide_rate, ...). Also ``kind`` ("count" | "level") and ``total`` (``all_years``: the
    run total for counts, the horizon mean for levels).

``.timeseries(scenarios=None, outcomes=None, points=None)`` — read lazily from disk:
    ``run_id``, ``scenario``, ``rep``, ``seed``, ``point``, ``step`` (int), ``year`` (float,
    step / steps_per_year), then the requested outcome columns (float32; all of
    ``CITY_OUTCOMES`` by default).

``.neighbourhoods(scenarios=None, outcomes=None, points=None)`` — read lazily:
    ``run_id``, ``scenario``, ``rep``, ``seed``, ``point``, ``month`` (int), ``neighbourhood``
    (int), the requested outcome columns (float32; all of ``HOOD_OUTCOMES`` by default: monthly
    sums for counts, monthly means for levels), ``residents`` (int), ``disadvantage`` (float32).

``.manifest`` — the dict in ``manifest.json``:
    ``experiment`` (name), ``description``, ``baseline`` (scenario name the others are compared
    with), ``scenarios`` (list of {name, file, file_sha256, scenario_hash, overrides}),
    ``replications``, ``base_seed``, ``seeds`` (list: replication r uses seeds[r] in every
    scenario and at every point — paired, common random numbers), ``years``,
    ``parameters`` (list of {name (dotted path), low, high, values, integer, scenarios}),
    ``sampler`` ("none" | "grid" | "lhs" | "sobol" | "morris"), ``sampler_options``
    ({samples, seed, calc_second_order, levels}), ``problem`` (SALib problem dict:
    num_vars, names, bounds — for ``SALib.analyze``), ``points`` (list of {point, <name>: value};
    in sampler order, so ``points`` rows are the SALib sample matrix ``X`` in order),
    ``versions``, ``git_commit``, ``code`` (``model.results.code_version()`` of the last start; each
    ``run.json`` carries its own), ``created``.

Keys: a run is identified by (scenario, point, rep); the same (point, rep) in two scenarios used
the same seed, so differences are paired by joining on ``point`` and ``rep`` (or ``seed``).
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import tempfile
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from model.metrics import CITY_OUTCOMES, HOOD_OUTCOMES, OUTCOMES

__all__ = ["Store", "Results", "RunRecord", "load_results", "compact_tables", "ID_COLUMNS", "TMP_PREFIX"]

ID_COLUMNS = ("run_id", "scenario", "rep", "seed", "point")
TMP_PREFIX = ".tmp-"
TABLES = ("summary", "timeseries", "neighbourhoods")


@dataclass
class RunRecord:
    """What ``run.json`` holds for one run (ok or failed)."""

    run_id: str
    scenario: str
    rep: int
    seed: int
    point: int
    values: dict[str, float]
    status: str  # "ok" | "failed"
    error: str = ""
    seconds: float = float("nan")
    same_as: str = ""  # the run whose simulation this run shares (same scenario and seed), "" if it ran itself

    def to_json(self) -> dict[str, Any]:
        return {"run_id": self.run_id, "scenario": self.scenario, "rep": self.rep, "seed": self.seed,
                "point": self.point, "values": self.values, "status": self.status, "error": self.error,
                "seconds": self.seconds, "same_as": self.same_as}


def compact_tables(timeseries: pd.DataFrame, neighbourhoods: pd.DataFrame, summary: pd.DataFrame,
                   ids: dict[str, Any]) -> dict[str, pd.DataFrame]:
    """The three tables of one run in the store's format (see the module docstring).

    ``timeseries``, ``neighbourhoods`` and ``summary`` are a :class:`~model.results.RunResult`'s
    tables; ``ids`` gives run_id, scenario, rep, seed and point, which lead every table.
    """

    def lead(n: int) -> dict[str, Any]:
        return {"run_id": np.repeat(ids["run_id"], n), "scenario": np.repeat(ids["scenario"], n),
                "rep": np.full(n, ids["rep"], dtype=np.int64), "seed": np.full(n, ids["seed"], dtype=np.int64),
                "point": np.full(n, ids["point"], dtype=np.int64)}

    n = len(timeseries)
    ts = pd.DataFrame({**lead(n), "step": timeseries["step"].to_numpy(np.int64),
                       "year": timeseries["year"].to_numpy(np.float64),
                       **{c: timeseries[c].to_numpy(np.float32) for c in CITY_OUTCOMES}})
    m = len(neighbourhoods)
    nb = pd.DataFrame({**lead(m), "month": neighbourhoods["month"].to_numpy(np.int64),
                       "neighbourhood": neighbourhoods["neighbourhood"].to_numpy(np.int64),
                       **{c: neighbourhoods[c].to_numpy(np.float32) for c in HOOD_OUTCOMES},
                       "residents": neighbourhoods["residents"].to_numpy(np.int64),
                       "disadvantage": neighbourhoods["disadvantage"].to_numpy(np.float32)})
    k = len(summary)
    sm = pd.DataFrame({**lead(k), "outcome": summary["outcome"].astype(str).to_numpy(),
                       "kind": summary["kind"].astype(str).to_numpy(),
                       "value": summary["per_year"].to_numpy(np.float64),
                       "total": summary["all_years"].to_numpy(np.float64)})
    return {"summary": sm, "timeseries": ts, "neighbourhoods": nb}


def _write_json_atomic(path: Path, data: Any) -> None:
    fd, tmp = tempfile.mkstemp(prefix=TMP_PREFIX, suffix=".json", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(data, fh, indent=1, default=str)
        os.chmod(tmp, 0o644)  # mkstemp makes it private; results are for reading
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


class Store:
    """Writer of one experiment folder: manifest, one atomic folder per run, resumable.

    >>> store = Store("results/demo")  # doctest: +SKIP
    >>> done = store.finished()        # run ids already stored with status ok
    """

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)
        self.runs_dir = self.root / "runs"
        self._lock: Any = None
        self.git_commit: str | None = None  # of the code that ran the runs, written into each run.json
        self.code: str | None = None  # code_version() of the code that runs them; None: any stored run counts
        self.stale: set[str] = set()  # after finished(): runs stored ok by other code (to run again)

    def open(self, manifest: dict[str, Any]) -> None:
        """Create the folder, take the writer's lock, drop leftovers of a crash, write the manifest."""
        self.runs_dir.mkdir(parents=True, exist_ok=True)
        self._take_lock()
        for stray in self.runs_dir.glob(TMP_PREFIX + "*"):
            shutil.rmtree(stray, ignore_errors=True)
        for stray in self.root.glob(TMP_PREFIX + "*"):
            with contextlib.suppress(OSError):
                stray.unlink()
        now = time.strftime("%Y-%m-%dT%H:%M:%S%z")
        path = self.root / "manifest.json"
        created = None
        if path.exists():
            with contextlib.suppress(OSError, ValueError, AttributeError):
                created = json.loads(path.read_text(encoding="utf-8")).get("created")
        _write_json_atomic(path, {**manifest, "created": created or now, "updated": now})

    def _take_lock(self) -> None:
        try:
            import fcntl
        except ImportError:  # not POSIX: no lock (one writer per folder is then the user's care)
            return
        fh = open(self.root / ".lock", "w")  # noqa: SIM115 - held open for the life of the store
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            fh.close()
            from model.errors import InputError

            raise InputError(str(self.root), "", "a results folder no other run is writing to",
                             "another safestreets process holding it") from None
        self._lock = fh

    def close(self) -> None:
        """Release the writer's lock."""
        if self._lock is not None:
            self._lock.close()
            self._lock = None

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def finished(self) -> set[str]:
        """Run ids stored with status ok by this code (these are not run again).

        With :attr:`code` set, a run stored ok by other code (another ``code`` in its ``run.json``, or
        none: made before runs recorded it) is not finished: it goes into :attr:`stale` and is run again.
        """
        done: set[str] = set()
        self.stale = set()
        if not self.runs_dir.exists():
            return done
        for entry in os.scandir(self.runs_dir):
            if entry.name.startswith(TMP_PREFIX) or not entry.is_dir():
                continue
            rec = _read_record(Path(entry.path))
            if rec is not None and rec.get("status") == "ok":
                if self.code is None or rec.get("code") == self.code:
                    done.add(entry.name)
                else:
                    self.stale.add(entry.name)
        return done

    def read_tables(self, run_id: str) -> dict[str, pd.DataFrame]:
        """The tables of a run stored ok (as :func:`compact_tables` made them)."""
        folder = self.runs_dir / run_id
        return {name: pd.read_parquet(folder / f"{name}.parquet") for name in TABLES}

    def write(self, record: RunRecord, tables: dict[str, pd.DataFrame] | None) -> Path:
        """Store one finished run atomically: build a temporary folder, then rename it into place."""
        final = self.runs_dir / record.run_id
        tmp = Path(tempfile.mkdtemp(prefix=f"{TMP_PREFIX}{record.run_id}-", dir=self.runs_dir))
        try:
            for name in TABLES if tables else ():
                tables[name].to_parquet(tmp / f"{name}.parquet", index=False)  # type: ignore[index]
            with open(tmp / "run.json", "w", encoding="utf-8") as fh:
                json.dump({**record.to_json(), "git_commit": self.git_commit, "code": self.code}, fh, indent=1)
            if final.exists():  # a failed run tried again: move the old record aside first
                old = Path(tempfile.mkdtemp(prefix=f"{TMP_PREFIX}old-{record.run_id}-", dir=self.runs_dir))
                os.replace(final, old / "run")
                os.replace(tmp, final)
                shutil.rmtree(old, ignore_errors=True)
            else:
                os.replace(tmp, final)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        return final


def _read_record(folder: Path) -> dict[str, Any] | None:
    try:
        return json.loads((folder / "run.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


class Results:
    """The stored runs of one experiment, as tidy pandas tables (see the module docstring).

    >>> res = load_results("results/compare_carsi")  # doctest: +SKIP
    >>> res.summary.query("outcome == 'homicides'").groupby("scenario")["value"].mean()  # doctest: +SKIP
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        manifest_path = self.path / "manifest.json"
        if not manifest_path.exists():
            from model.errors import InputError

            raise InputError(str(self.path), "", "a results folder with manifest.json", "none")
        self.manifest: dict[str, Any] = json.loads(manifest_path.read_text(encoding="utf-8"))
        self.parameters: list[str] = [p["name"] for p in self.manifest.get("parameters", [])]
        self.code_versions: set[str | None] = set()  # the code fingerprints of the ok runs (None: not recorded)
        self.runs = self._read_runs()
        self._summary: pd.DataFrame | None = None
        self.report: Any = None  # the BatchReport when returned by sweep() or compare()

    def __repr__(self) -> str:
        ok = int((self.runs["status"] == "ok").sum()) if len(self.runs) else 0
        return (f"Results({str(self.path)!r}: {ok} ok runs, {len(self.runs) - ok} failed, "
                f"scenarios {sorted(set(self.runs['scenario'])) if len(self.runs) else []})")

    @property
    def baseline(self) -> str | None:
        """Name of the scenario the others are compared with."""
        return self.manifest.get("baseline")

    @property
    def ok(self) -> pd.DataFrame:
        """The rows of :attr:`runs` that finished."""
        return self.runs[self.runs["status"] == "ok"]

    @property
    def failed(self) -> pd.DataFrame:
        """The rows of :attr:`runs` that raised (error text, seed and point kept)."""
        return self.runs[self.runs["status"] != "ok"]

    def _read_runs(self) -> pd.DataFrame:
        expected = self.manifest.get("run_ids")
        wanted = set(expected) if expected is not None else None
        rows = []
        runs_dir = self.path / "runs"
        entries = sorted(os.scandir(runs_dir), key=lambda e: e.name) if runs_dir.exists() else []
        for entry in entries:
            if entry.name.startswith(TMP_PREFIX) or not entry.is_dir():
                continue
            if wanted is not None and entry.name not in wanted:
                continue  # a run of an earlier definition of this experiment
            rec = _read_record(Path(entry.path))
            if rec is None:
                continue
            row = {k: rec[k] for k in ID_COLUMNS}
            for name in self.parameters:
                row[name] = rec.get("values", {}).get(name, np.nan)
            row.update(status=rec["status"], error=rec.get("error", ""), seconds=rec.get("seconds", np.nan),
                       same_as=rec.get("same_as", ""))
            if rec["status"] == "ok":
                self.code_versions.add(rec.get("code"))
            rows.append(row)
        columns = [*ID_COLUMNS, *self.parameters, "status", "error", "seconds", "same_as"]
        df = pd.DataFrame(rows, columns=columns)
        df = df.astype({"rep": "int64", "seed": "int64", "point": "int64", "seconds": "float64",
                        **{p: "float64" for p in self.parameters}})
        return df.sort_values(["scenario", "point", "rep"], kind="stable").reset_index(drop=True)

    def _files(self, table: str, scenarios: Sequence[str] | str | None, points: Iterable[int] | None) -> list[str]:
        runs = self.ok
        if scenarios is not None:
            runs = runs[runs["scenario"].isin([scenarios] if isinstance(scenarios, str) else list(scenarios))]
        if points is not None:
            runs = runs[runs["point"].isin(list(points))]
        return [str(self.path / "runs" / rid / f"{table}.parquet") for rid in runs["run_id"]]

    def _read(self, table: str, files: list[str], columns: list[str] | None) -> pd.DataFrame:
        import pyarrow.dataset as ds

        if not files:
            return pd.DataFrame(columns=columns or [])
        data = ds.dataset(files, format="parquet").to_table(columns=columns)
        return data.to_pandas()

    @property
    def summary(self) -> pd.DataFrame:
        """One row per ok run per outcome: run_id, scenario, rep, seed, point, outcome, kind, value, total."""
        if self._summary is None:
            df = self._read("summary", self._files("summary", None, None), None)
            if len(df):
                df = df.sort_values(["scenario", "point", "rep", "outcome"], kind="stable").reset_index(drop=True)
            else:
                df = pd.DataFrame(columns=[*ID_COLUMNS, "outcome", "kind", "value", "total"])
            self._summary = df
        return self._summary

    def wide(self) -> pd.DataFrame:
        """:attr:`summary` as one row per run with one column per outcome (``value``), plus parameters."""
        s = self.summary
        wide = s.pivot_table(index=list(ID_COLUMNS), columns="outcome", values="value", aggfunc="first")
        wide.columns.name = None
        wide = wide.reset_index()
        if self.parameters:
            wide = wide.merge(self.runs[["run_id", *self.parameters]], on="run_id", how="left")
        return wide

    def timeseries(self, scenarios: Sequence[str] | str | None = None, outcomes: Sequence[str] | None = None,
                   points: Iterable[int] | None = None) -> pd.DataFrame:
        """The city per step for the chosen runs, read from disk now (columns: ids, step, year, outcomes)."""
        cols = None if outcomes is None else [*ID_COLUMNS, "step", "year", *_check(outcomes, CITY_OUTCOMES)]
        df = self._read("timeseries", self._files("timeseries", scenarios, points), cols)
        return df.sort_values(["scenario", "point", "rep", "step"], kind="stable").reset_index(drop=True) \
            if len(df) else df

    def neighbourhoods(self, scenarios: Sequence[str] | str | None = None, outcomes: Sequence[str] | None = None,
                       points: Iterable[int] | None = None) -> pd.DataFrame:
        """Neighbourhoods per month for the chosen runs (ids, month, neighbourhood, outcomes, residents)."""
        cols = None if outcomes is None else [*ID_COLUMNS, "month", "neighbourhood",
                                              *_check(outcomes, HOOD_OUTCOMES), "residents", "disadvantage"]
        df = self._read("neighbourhoods", self._files("neighbourhoods", scenarios, points), cols)
        return df.sort_values(["scenario", "point", "rep", "month", "neighbourhood"], kind="stable") \
            .reset_index(drop=True) if len(df) else df


def _check(outcomes: Sequence[str], known: Sequence[str]) -> list[str]:
    import difflib

    out = [outcomes] if isinstance(outcomes, str) else list(outcomes)
    for name in out:
        if name not in known:
            close = difflib.get_close_matches(name, list(known), n=1, cutoff=0.6)
            hint = f" (did you mean '{close[0]}'?)" if close else ""
            raise KeyError(f"unknown outcome '{name}'{hint}")
    return out


def load_results(path: str | Path) -> Results:
    """Open the results folder of an experiment (``results/<experiment>``) for reading.

    >>> res = load_results("results/compare_carsi")  # doctest: +SKIP
    >>> res.runs.groupby("scenario").size()  # doctest: +SKIP
    """
    return Results(path)


def outcome_kind(name: str) -> str:
    """'count' or 'level' for a city outcome."""
    return OUTCOMES[name].kind


def iter_run_folders(path: str | Path) -> Iterator[Path]:
    """Folders of stored runs (ok or failed), skipping temporary ones."""
    runs_dir = Path(path) / "runs"
    if runs_dir.exists():
        for entry in os.scandir(runs_dir):
            if entry.is_dir() and not entry.name.startswith(TMP_PREFIX):
                yield Path(entry.path)
