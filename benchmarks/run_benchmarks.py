"""Speed and memory of the Safe Streets model, against Mesa's Epstein civil violence example.

Run from the repository root (a few minutes on a 2-core machine):

    pip install -e ".[bench]"                      # the model, and pyinstrument for the profile
    python benchmarks/run_benchmarks.py            # everything; writes benchmarks/RESULTS.md (and .json)
    python benchmarks/run_benchmarks.py --quick    # smaller sizes, no batch comparison (a smoke run):
                                                   # writes results/benchmarks-quick/RESULTS.md instead

What it measures, all in one run on one machine so the ratios are fair:

* the full model (``scenarios/carsi_package.yaml``, every programme on) at 10,000, 100,000 and
  1,000,000 residents for one simulated year of daily steps: construction time, stepping time,
  agent-steps per second (residents x steps / stepping seconds), model state in bytes per resident
  (``people.nbytes()`` plus every neighbourhood, police, gang, justice and lever array) and the
  peak RSS of a fresh subprocess per size, pinned to one core with one BLAS thread;
* Mesa's own Epstein civil violence example (shipped in the ``mesa`` package) with about 10,000
  agents, in a fresh subprocess on the same core, and the ratio of agent-steps per second;
* cost scaling: doubling residents at fixed neighbourhoods, and doubling neighbourhoods at fixed
  residents;
* a batch comparison of ``baseline.yaml`` and ``carsi_package.yaml`` with 20 replications each on
  both cores (``safestreets compare`` when it exists, and a 2-process pool of ``model.api.run``);
* a country: El Salvador's 6.3 million people (the issue's example), with neighbourhoods scaled
  to keep the scenario's people per neighbourhood, for one simulated year (one run);
* the 1,000,000-resident year end to end from the command line (``safestreets run``: interpreter start,
  imports, build, spin-up, the year, writing its outputs), once with numba's cache empty (the first run
  after an install, compiling every loop) and once with it warm;
* a pyinstrument profile of the 1,000,000-resident run (``profile_1m.txt`` and ``.html``), and a
  call-count profile (cProfile) of the 10,000-resident run (``profile_10k_calls.txt``), where a step is
  mostly the fixed cost of Python and numpy calls and the number of calls is what to cut.

The raw measurements go beside the report as JSON (``RESULTS.json``).

Speed lives here only; the test suite has no timed assertions.
"""

from __future__ import annotations

import argparse
import datetime as dt
import itertools
import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import sysconfig
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import fields, is_dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
SCENARIOS = ROOT / "scenarios"
ONE_THREAD = {"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}

# targets of issue 5, on a 2-core machine
TARGET_SECONDS_1M_YEAR = 20.0
TARGET_BYTES_PER_RESIDENT = 200.0
TARGET_MESA_RATIO = 1000.0
TARGET_COMPARE_SECONDS = 180.0

# long runs: every scenario file at LONG_RESIDENTS, and carsi_package at 1,000,000, over LONG_YEARS years
LONG_YEARS = 10
LONG_RESIDENTS = 20_000
LONG_GROWTH_LIMIT = 1.5  # no later year may cost more than this times the first

# a country-sized city: El Salvador's population (issue 5: "El Salvador has 6.3 million people")
COUNTRY_RESIDENTS = 6_300_000

# Epstein civil violence at its default densities (0.7 citizens, 0.074 cops): 114 x 114 cells
# hold about 10,000 agents
EPSTEIN_SIDE = 114
EPSTEIN_RUNS = 5  # fresh-process runs of it, one before the model sizes and the rest after; the fastest counts
# (its speed on this machine wanders by up to ~40 % from one ten-second run to the next, more than the model's)


# ------------------------------------------------------------------------------------ workers
def _rss_now_mb() -> float:
    """Resident set size of this process now, in MB (Linux /proc)."""
    with open("/proc/self/status", encoding="ascii") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024.0
    return float("nan")


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # KB on Linux


def _array_bytes(obj: Any) -> int:
    """Bytes of every numpy array held by a dataclass, a dict or a plain object (one level)."""
    if isinstance(obj, np.ndarray):
        return int(obj.nbytes)
    if isinstance(obj, dict):
        return sum(_array_bytes(v) for v in obj.values())
    if is_dataclass(obj):
        return sum(_array_bytes(getattr(obj, f.name)) for f in fields(obj))
    values = getattr(obj, "__dict__", None)
    if values is None and hasattr(obj, "__slots__"):
        values = {name: getattr(obj, name, None) for name in obj.__slots__}
    if isinstance(values, dict):
        return sum(int(v.nbytes) for v in values.values() if isinstance(v, np.ndarray))
    return 0


def state_bytes(model: Any) -> dict[str, int]:
    """Model state by owner, in bytes: people, neighbourhoods (and police, gangs, levers), justice.

    Outputs (the recorder's preallocated tables) are counted apart: they grow with steps and
    outcomes, not with residents.
    """
    people = model.people.nbytes() + int(model.people.block_start.nbytes)
    hood = sum(_array_bytes(x) for x in (model.hood, model.levers, model.police, model.tally, model.incidents))
    hood += int(model.gang_members.nbytes + model.control.nbytes)
    world = model.world
    hood += sum(int(a.nbytes) for a in (world.residents, world.position, world.disadvantage,
                                          world.collective_efficacy, world.commerce, world.block_start))
    hood += int(world.adjacency.data.nbytes + world.adjacency.indices.nbytes + world.adjacency.indptr.nbytes)
    justice = _array_bytes(model.justice)
    programmes = sum(_array_bytes(getattr(p, "__pydantic_private__", None) or {}) for p in model.programmes)
    outputs = int(model.recorder.city.nbytes + model.recorder.hood_sum.nbytes + model.recorder.hood_steps.nbytes)
    return {"people": people, "neighbourhoods": hood, "justice": justice, "programmes": programmes,
            "state": people + hood + justice + programmes, "outputs": outputs}


def _pin(pid: int) -> int | None:
    """Pin process ``pid`` (0: this one) to the first CPU this process may use; returns it, or None if not
    possible."""
    try:
        cpu = min(os.sched_getaffinity(0))
        os.sched_setaffinity(pid, {cpu})
        return cpu
    except (AttributeError, OSError):
        return None


CALLS_SUFFIX = "_calls.txt"  # a profile file named so is a cProfile of the steps; any other, pyinstrument


def _scenario(scenario: str, residents: int, years: float, neighbourhoods: int | None = None) -> Any:
    """A scenario file at ``residents`` (and ``neighbourhoods``, if given) over ``years`` simulated years."""
    from model.scenario import load_scenario

    overrides = [f"city.residents={residents}"]
    if neighbourhoods:
        overrides.append(f"city.neighbourhoods={neighbourhoods}")
    return load_scenario(SCENARIOS / scenario, overrides=overrides).model_copy(update={"years": years})


def _write_calls(calls: Any, path: Path, scenario: str, residents: int, steps: int) -> None:
    """A cProfile of the steps as text: the functions by own time, then by calls (per step)."""
    import io
    import pstats

    out = io.StringIO()
    stats = pstats.Stats(calls, stream=out)
    total = sum(v[1] for v in stats.stats.values())  # primitive + recursive calls, all functions
    out.write(f"cProfile of {steps} steps at {residents:,} residents ({scenario}, after the spin-up): "
              f"{total:,} Python-level calls, {total / steps:,.0f} a step. The profiler's own cost per call "
              "inflates the times; read them as shares.\n\n")
    stats.sort_stats("tottime").print_stats(40)
    stats.sort_stats("ncalls").print_stats(25)
    path.write_text(_relative_paths(out.getvalue()), encoding="utf-8")


def _relative_paths(text: str) -> str:
    """A profile's file paths relative to the repository, and the packages' and the library's as <purelib>/ etc.
    (the report is read on other machines)."""
    text = text.replace(str(ROOT) + os.sep, "")
    for name, where in sorted(sysconfig.get_paths().items(), key=lambda kv: -len(kv[1])):
        if name in ("purelib", "platlib", "stdlib", "platstdlib"):
            text = text.replace(where + os.sep, f"<{name}>/")
    return text


def worker_model(residents: int, steps: int, neighbourhoods: int | None, scenario: str,
                 profile: Path | None) -> dict[str, Any]:
    """Build and run the model once in this (fresh) process; time, memory and state size."""
    cpu = _pin(0)
    rss_start = _rss_now_mb()
    from model import draws
    from model.metrics import CITY_OUTCOMES
    from model.model import SecurityModel

    sc = _scenario(scenario, residents, 1.0, neighbourhoods)
    sc = sc.model_copy(update={"years": steps / sc.steps_per_year})
    rss_imported = _rss_now_mb()
    profiler = calls = None
    if profile is not None and profile.name.endswith(CALLS_SUFFIX):  # every call counted (steps only, below)
        import cProfile

        calls = cProfile.Profile()
    elif profile is not None:
        from pyinstrument import Profiler

        profiler = Profiler(interval=0.001)
        profiler.start()
    t0 = time.perf_counter()
    c0 = time.process_time()
    model = SecurityModel(sc, seed=0)
    t1 = time.perf_counter()
    c1 = time.process_time()
    if calls is not None:
        calls.enable()
    for _ in range(steps):
        model.step()
    t2 = time.perf_counter()
    c2 = time.process_time()
    if calls is not None:
        calls.disable()
        _write_calls(calls, profile, scenario, residents, steps)
    if profiler is not None:
        profiler.stop()
        profile.with_suffix(".txt").write_text(
            _relative_paths(profiler.output_text(unicode=False, color=False, show_all=False)), encoding="utf-8")
        profile.with_suffix(".html").write_text(profiler.output_html(), encoding="utf-8")
    sizes = state_bytes(model)
    return {
        "kind": "model", "scenario": scenario, "residents": residents, "steps": steps,
        "neighbourhoods": int(model.world.n_neighbourhoods), "cpu": cpu, "compiled_draws": draws.accelerated(),
        "spin_up_years": float(getattr(sc, "spin_up_years", 0.0) or 0.0),
        "build_s": t1 - t0, "step_s": t2 - t1, "build_cpu_s": c1 - c0, "step_cpu_s": c2 - c1,
        "agent_steps_per_s": residents * steps / (t2 - t1),
        "agent_steps_per_cpu_s": residents * steps / (c2 - c1),
        "seconds_per_year": (t2 - t1) / steps * sc.steps_per_year,
        "bytes": sizes, "bytes_per_resident": sizes["state"] / residents,
        "people_bytes_per_resident": sizes["people"] / residents,
        "rss_start_mb": rss_start, "rss_imported_mb": rss_imported, "peak_rss_mb": _peak_rss_mb(),
        "crimes": float(np.nansum(model.recorder.city[:steps, CITY_OUTCOMES.index("crimes")])),
        "profiled": profile is not None,
    }


def worker_long(residents: int, years: int, scenario: str) -> dict[str, Any]:
    """One model run over ``years`` simulated years; stepping seconds year by year (wall and CPU).

    A cost that grows with the simulated time (a queue, a pool used up, a memory never pruned)
    shows only in later years, which the one-year rows above never reach.
    """
    cpu = _pin(0)
    from model.model import SecurityModel

    sc = _scenario(scenario, residents, float(years))
    t0 = time.perf_counter()
    model = SecurityModel(sc, seed=0)
    build = time.perf_counter() - t0
    wall, cpu_s = [], []
    for _ in range(years):
        t1, c1 = time.perf_counter(), time.process_time()
        for _ in range(sc.steps_per_year):
            model.step()
        wall.append(time.perf_counter() - t1)
        cpu_s.append(time.process_time() - c1)
    return {"kind": "long", "scenario": scenario, "residents": residents, "years": years, "cpu": cpu,
            "neighbourhoods": int(model.world.n_neighbourhoods), "build_s": build, "year_s": wall,
            "year_cpu_s": cpu_s, "peak_rss_mb": _peak_rss_mb()}


def worker_epstein(side: int, steps: int, warmup: int = 0) -> dict[str, Any]:
    """Mesa's Epstein civil violence example, as shipped, on a side x side torus.

    ``warmup`` steps run untimed first: our model is timed after its spin-up year, so Mesa's is
    timed warm too (its first steps run slower than later ones).
    """
    cpu = _pin(0)
    from mesa.examples.advanced.epstein_civil_violence.model import EpsteinCivilViolence

    t0 = time.perf_counter()
    model = EpsteinCivilViolence(width=side, height=side, seed=0)
    for _ in range(warmup):
        model.step()
    t1 = time.perf_counter()
    agents = len(model.agents)
    c1 = time.process_time()
    for _ in range(steps):
        model.step()
    t2 = time.perf_counter()
    c2 = time.process_time()
    return {
        "kind": "epstein", "side": side, "agents": agents, "steps": steps, "warmup": warmup, "cpu": cpu,
        "build_s": t1 - t0, "step_s": t2 - t1, "step_cpu_s": c2 - c1,
        "agent_steps_per_s": agents * steps / (t2 - t1), "agent_steps_per_cpu_s": agents * steps / (c2 - c1),
        "peak_rss_mb": _peak_rss_mb(),
    }


def _subprocess(args: list[str], timeout: float = 600.0) -> dict[str, Any]:
    """Run a worker in a fresh interpreter (one BLAS thread) and read its JSON answer."""
    env = {**os.environ, **ONE_THREAD}
    cmd = [sys.executable, str(Path(__file__).resolve()), "--worker", *args]
    out = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=ROOT, timeout=timeout, check=False)
    if out.returncode != 0:
        raise RuntimeError(f"worker {args} failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def run_model(residents: int, steps: int = 365, neighbourhoods: int | None = None,
              scenario: str = "carsi_package.yaml", profile: Path | None = None,
              repeats: int = 1) -> dict[str, Any]:
    """The fastest of ``repeats`` fresh-process runs (other work on a shared machine only slows a run)."""
    args = ["model", "--residents", str(residents), "--steps", str(steps), "--scenario", scenario]
    if neighbourhoods:
        args += ["--neighbourhoods", str(neighbourhoods)]
    if profile is not None:
        args += ["--profile", str(profile)]
    runs = [_subprocess(args) for _ in range(max(repeats, 1))]
    best = min(runs, key=lambda r: r["step_s"])  # every figure of a row from this one run
    best["repeats"] = len(runs)
    best["step_s_all"] = [r["step_s"] for r in runs]
    return best


def country_neighbourhoods(scenario: str = "carsi_package.yaml") -> int:
    """Neighbourhoods for :data:`COUNTRY_RESIDENTS` at the scenario's own people per neighbourhood."""
    from model.scenario import load_scenario

    city = load_scenario(SCENARIOS / scenario).city
    return round(COUNTRY_RESIDENTS * city.neighbourhoods / city.residents)


def run_long(residents: int, years: int, scenario: str) -> dict[str, Any]:
    """One fresh-process run of :func:`worker_long`."""
    return _subprocess(["long", "--residents", str(residents), "--years", str(years), "--scenario", scenario],
                       timeout=1800.0)


def run_epstein(side: int, steps: int, repeats: int = 1, warmup: int = 0) -> list[dict[str, Any]]:
    """``repeats`` fresh-process runs of the Mesa example; :func:`best_epstein` picks the reference."""
    args = ["epstein", "--side", str(side), "--steps", str(steps), "--warmup", str(warmup)]
    return [_subprocess(args) for _ in range(max(repeats, 1))]


SPREAD_WARNING = 1.15  # fastest / slowest Mesa run above this: the machine was not steady


def run_cli_year(residents: int, cold: bool) -> dict[str, Any]:
    """``safestreets run carsi_package.yaml`` at ``residents`` for one recorded year, timed from outside on one core:
    what a user waits for (interpreter start, imports, build, spin-up, the year, writing the outputs).

    ``cold``: with numba's cache in an empty folder, so every compiled loop is compiled, as on the first run
    after an install. Outputs go to a temporary folder that is removed afterwards.
    """
    exe = safestreets_command()
    if exe is None:
        raise FileNotFoundError("the safestreets command is not installed")  # (main checks it first)
    scratch = Path(tempfile.mkdtemp(prefix="safestreets-bench-"))
    env = {**os.environ, **ONE_THREAD}
    if cold:
        env["NUMBA_CACHE_DIR"] = str(scratch / "numba-cache")
    cmd = [exe, "run", str(SCENARIOS / "carsi_package.yaml"), "--set", f"city.residents={residents}",
           "--years", "1", "--out", str(scratch / "out"), "--no-plot", "--quiet"]
    try:
        t0, c0 = time.perf_counter(), _children_cpu()
        with subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT,
                              env=env) as proc:
            _pin(proc.pid)  # (not preexec_fn: this process has threads, which a fork's hook is unsafe with)
            try:
                stdout, stderr = proc.communicate(timeout=1200)
            except subprocess.TimeoutExpired:
                proc.kill()
                stdout, stderr = proc.communicate()
        wall, cpu = time.perf_counter() - t0, _children_cpu() - c0
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    how = f"`safestreets run scenarios/carsi_package.yaml --set city.residents={residents} --years 1`"
    if proc.returncode != 0:
        error = (stderr or stdout).strip().splitlines()[-1:]
        return {"kind": "cli", "how": how, "cold": cold, "error": error}
    return {"kind": "cli", "how": how, "cold": cold, "residents": residents, "wall_s": wall, "cpu_s": cpu}


def best_epstein(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """The fastest run (the fairest to Mesa), with every run's rate kept for the report.

    The runs are spread over the benchmark (before and after the model sizes), so a slow stretch
    of a shared machine cannot make every one of them slow; the report warns when they disagree.
    """
    best = dict(max(runs, key=lambda r: r["agent_steps_per_s"]))  # (its CPU rate too: one run's figures)
    best["rates"] = [r["agent_steps_per_s"] for r in runs]
    return best


# ------------------------------------------------------------------------------ batch comparison
def _one_run(job: tuple[str, int, float]) -> tuple[float, float]:
    """One replication through the public API (no files written); returns its wall and CPU seconds."""
    from model.api import run

    name, seed, years = job
    t0, c0 = time.perf_counter(), time.process_time()
    run(SCENARIOS / name, seed=seed, years=years)
    return time.perf_counter() - t0, time.process_time() - c0


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def compare_with_pool(replications: int, years: float | None) -> dict[str, Any]:
    """baseline vs carsi_package, ``replications`` seeds each, in a 2-process pool of ``model.api.run``."""
    from model.scenario import load_scenario

    horizon = years if years is not None else load_scenario(SCENARIOS / "baseline.yaml").years
    jobs = [(name, seed, horizon) for seed in range(replications)
            for name in ("baseline.yaml", "carsi_package.yaml")]
    env_backup = {k: os.environ.get(k) for k in ONE_THREAD}
    os.environ.update(ONE_THREAD)
    try:
        t0 = time.perf_counter()
        with ProcessPoolExecutor(max_workers=2) as pool:
            per_run = list(pool.map(_one_run, jobs))
        wall = time.perf_counter() - t0
        cpu = float(sum(c for _, c in per_run))
    finally:
        for k, v in env_backup.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    return {"how": "2-process ProcessPoolExecutor of model.api.run", "runs": len(jobs), "years": horizon,
            "wall_s": wall, "mean_run_s": float(np.mean([w for w, _ in per_run])), "cpu_s": cpu, "workers": 2}


def safestreets_command() -> str | None:
    """The ``safestreets`` command of this Python's installation (beside the interpreter, else on the PATH)."""
    beside = Path(sys.executable).with_name("safestreets")
    return str(beside) if beside.exists() else shutil.which("safestreets")


def compare_with_cli(replications: int) -> dict[str, Any] | None:
    """``safestreets compare`` on both cores, if the command exists; None otherwise.

    Results go to a temporary folder that is removed afterwards.
    """
    exe = safestreets_command()
    if exe is None:
        return None
    probe = subprocess.run([exe, "compare", "--help"], capture_output=True, text=True, check=False)
    if probe.returncode != 0:
        return None
    out_dir = Path(tempfile.mkdtemp(prefix="safestreets-bench-"))
    cmd = [exe, "compare", str(SCENARIOS / "baseline.yaml"), str(SCENARIOS / "carsi_package.yaml"),
           "--reps", str(replications), "--workers", "2", "--out", str(out_dir), "--name", "bench", "--quiet"]
    try:
        t0, c0 = time.perf_counter(), _children_cpu()
        done = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, check=False,
                              env={**os.environ, **ONE_THREAD})
        wall, cpu = time.perf_counter() - t0, _children_cpu() - c0
    finally:
        shutil.rmtree(out_dir, ignore_errors=True)
    how = f"`safestreets compare baseline.yaml carsi_package.yaml --reps {replications} --workers 2`"
    if done.returncode != 0:
        return {"how": how, "error": (done.stderr or done.stdout).strip().splitlines()[-1:]}
    del cpu  # the command's pool workers are not all reaped by it, so their CPU time is not seen here
    return {"how": how, "runs": 2 * replications, "wall_s": wall}


# ------------------------------------------------------------------------------------ report
def machine() -> dict[str, str]:
    """CPU model, cores, memory, Python and package versions, git commit, date."""
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = "unknown"
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                mem = f"{int(line.split()[1]) / 1024**2:.1f} GiB"
    except OSError:
        pass
    versions = {"python": platform.python_version()}
    for name in ("safestreets", "mesa", "numpy", "numba", "scipy", "pandas", "networkx", "pyinstrument"):
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    commit = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"], capture_output=True,
                            text=True, check=False).stdout.strip() or "unknown"
    dirty = subprocess.run(["git", "-C", str(ROOT), "status", "--porcelain", "--untracked-files=no", "model"],
                           capture_output=True, text=True, check=False).stdout.strip()
    return {"cpu": cpu, "cores": str(os.cpu_count()), "memory": mem, "os": platform.platform(),
            "versions": ", ".join(f"{k} {v}" for k, v in versions.items()),
            "commit": commit + (" (model/ has uncommitted changes)" if dirty else ""),
            "load": " ".join(f"{x:.2f}" for x in os.getloadavg()),
            "date": dt.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z")}


def _ok(flag: bool) -> str:
    return "met" if flag else "**not met**"


def _step_cpu(row: dict[str, Any]) -> float:
    """CPU seconds of a model run's stepping."""
    return row["step_cpu_s"]


def _run_cpu(row: dict[str, Any]) -> float:
    """CPU seconds of a whole model run: build (with the spin-up) and stepping."""
    return row["build_cpu_s"] + row["step_cpu_s"]


def _ratios(rows: list[dict], measure: Callable[[dict[str, Any]], float]) -> list[float]:
    """Each row's ``measure`` over the row before it's."""
    return [measure(y) / measure(x) for x, y in itertools.pairwise(rows)]


def _runs_text(rates: list[float]) -> str:
    if len(rates) < 2:
        return "one run"
    return (f"fastest of {len(rates)} runs, one before the model sizes and the rest after: "
            + ", ".join(f"{x:,.0f}" for x in rates))


def _growth(run: dict[str, Any]) -> float:
    """The costliest later year's stepping CPU time over the first year's."""
    years = run["year_cpu_s"]
    return max(years[1:]) / years[0] if len(years) > 1 else 1.0


def _year_text(steps: int) -> str:
    """What the stepping of ``steps`` daily steps is, in the report's words."""
    return "one recorded year (365 daily steps)" if steps == 365 else f"{steps} recorded daily steps (not a year)"


def write_report(path: Path, info: dict[str, str], sizes: list[dict], epstein: dict, scaling: dict,
                 compare: list[dict], profile: Path | None, total_s: float,
                 long_runs: list[dict] | None = None, cli: list[dict] | None = None,
                 not_judged: str | None = None) -> str:
    """Write the Markdown report (tables, targets) and return its text.

    ``not_judged``: why this run's figures are not held against the targets (a smoke run's smaller sizes, or
    fewer steps than a year); the targets table then says so on every row instead of met or not met.
    """
    steps = sizes[0]["steps"]
    if not_judged is None and steps != 365:  # the targets are for a year of daily steps
        not_judged = f"{steps} steps, not 365"
    lines = ["# Benchmarks", "",
             "Written by `python benchmarks/run_benchmarks.py` (do not edit by hand; the raw figures are in",
             f"`{path.with_suffix('.json').name}`). Every number below comes from one run on the machine described.",
             "Each model size and the Mesa example ran in a fresh subprocess pinned to one core with one BLAS",
             f"thread; each model row is the fastest of {sizes[0].get('repeats', 1)} such runs"
             + (" (the country-sized row: one)" if any(r["residents"] == COUNTRY_RESIDENTS for r in sizes) else "")
             + ", every figure of a row from that one run. Wall times also carry whatever else ran on",
             "the machine (load average below); CPU seconds (time the process actually ran) are steadier, and",
             "the scaling ratios use them.", "",
             "## Machine", "",
             f"- CPU: {info['cpu']} ({info['cores']} cores), memory {info['memory']}",
             f"- OS: {info['os']}",
             f"- Versions: {info['versions']}",
             f"- Git commit: {info['commit']}",
             f"- Date: {info['date']}; whole benchmark run {total_s:.0f} s",
             f"- Load average (1, 5, 15 min): {info['load']}", "",
             "## The full model (carsi_package.yaml, all programmes on, daily steps)", "",
             "| residents | neighbourhoods | build s | stepping s (wall) | stepping s (CPU) | agent-steps/s (wall) "
             "| agent-steps/s (CPU) | state bytes/resident | of which people | peak RSS MB | RSS growth MB |",
             "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for r in sizes:
        lines.append(
            f"| {r['residents']:,} | {r['neighbourhoods']} | {r['build_s']:.2f} | {r['step_s']:.2f} "
            f"| {r['step_cpu_s']:.2f} | {r['agent_steps_per_s']:.3g} | {r['agent_steps_per_cpu_s']:.3g} "
            f"| {r['bytes_per_resident']:.1f} | {r['people_bytes_per_resident']:.1f} | {r['peak_rss_mb']:.0f} "
            f"| {r['peak_rss_mb'] - r['rss_imported_mb']:.0f} |")
    country = [r for r in sizes if r["residents"] == COUNTRY_RESIDENTS]
    if country:
        c = country[0]
        lines += ["", f"The last row is a country: El Salvador's {COUNTRY_RESIDENTS:,} people, in "
                  f"{c['neighbourhoods']:,} neighbourhoods (the scenario's people per neighbourhood), run once. "
                  f"A simulated year of it takes {c['build_s'] + c['step_s']:.1f} s with the build and "
                  f"{c['peak_rss_mb'] / 1024:.2f} GB at its peak."]
    spin = sorted({r.get("spin_up_years", 0.0) for r in sizes})
    lines += ["", f"Stepping is {_year_text(steps)}; wall seconds per simulated year equal stepping seconds here."]
    if any(spin):
        lines.append(f"Build includes the scenario's spin-up ({', '.join(f'{x:g}' for x in spin)} year(s) of "
                     "unrecorded steps before t = 0).")
    lines += ["State is `model.people.nbytes()` plus every neighbourhood, police, gang, lever, justice and",
              "programme array; the recorder's output tables are not state (they grow with steps, not people).",
              "RSS growth is peak RSS minus RSS after the imports (Python, numpy, Mesa, pandas make up the rest)."]
    by_size = sorted((r for r in sizes if r["residents"] != COUNTRY_RESIDENTS), key=lambda r: r["residents"])
    if len(by_size) >= 2:
        lo, hi = by_size[-2], by_size[-1]
        marginal = (hi["peak_rss_mb"] - lo["peak_rss_mb"]) * 2**20 / (hi["residents"] - lo["residents"])
        lines.append(f"From {lo['residents']:,} to {hi['residents']:,} residents the peak RSS grows by "
                     f"{marginal:.0f} bytes per added resident: the state, plus the build's temporaries (people are "
                     "made in whole arrays, a few of them at a time) and the step's arrays of events.")
    lines += ["Array Poisson and binomial draws: "
              + ("numpy's samplers in numba-compiled loops (`model/draws.py`: the same draws; numba and its"
                 " compiler add ~100 MB to the RSS, loaded during the build)."
                 if all(r.get("compiled_draws") for r in sizes) else
                 "numpy's Generator methods (`model/draws.py` fell back: numba missing or switched off)."),
              ""]
    mesa_rate, mesa_cpu = epstein["agent_steps_per_s"], epstein["agent_steps_per_cpu_s"]
    lines += ["## Against Mesa's Epstein civil violence example", "",
              f"`mesa.examples.advanced.epstein_civil_violence.model.EpsteinCivilViolence` as shipped, on a "
              f"{epstein['side']} x {epstein['side']} torus at its default densities: {epstein['agents']:,} agents; "
              f"after {epstein.get('warmup', 0)} untimed warm-up steps (our model is timed after its spin-up year), "
              f"{epstein['steps']} steps in {epstein['step_s']:.2f} s = **{mesa_rate:,.0f} agent-steps/s** "
              f"({mesa_cpu:,.0f} per CPU second, the same run; {_runs_text(epstein.get('rates', []))}).", "",
              "An agent-step is one agent carried through one step: residents x steps / seconds for Safe Streets, "
              "agents x steps / seconds for Mesa. Every Epstein agent acts each step (it surveys its vision-7 "
              "neighbourhood and may move, rebel or arrest). A Safe Streets resident is a row of arrays that a "
              "step touches only if an event picks it (a crime, a recruitment, an arrest, an enrolment); the "
              "step's work follows those events, as issue 5 asks (most people do nothing on most days).", ""]
    rates = epstein.get("rates", [])
    if rates and max(rates) > SPREAD_WARNING * min(rates):
        lines += [f"The Mesa runs differ by {max(rates) / min(rates) - 1:.0%}: the machine was not steady while "
                  "they ran. The ratios use the fastest of them, so a slow run cannot raise a ratio; against the "
                  f"slowest, every ratio would be {max(rates) / min(rates) - 1:.0%} higher.", ""]
    lines += ["| model | agent-steps/s (wall) | ratio to Mesa (wall) | ratio to Mesa (CPU) |",
              "|---|---:|---:|---:|",
              f"| Mesa Epstein, {epstein['agents']:,} agents | {mesa_rate:,.0f} | 1 | 1 |"]
    for r in sizes:
        lines.append(f"| Safe Streets, {r['residents']:,} residents | {r['agent_steps_per_s']:.3g} "
                     f"| {r['agent_steps_per_s'] / mesa_rate:,.0f} | {r['agent_steps_per_cpu_s'] / mesa_cpu:,.0f} |")
    lines += [""]
    cli_ok = [c for c in cli or [] if "wall_s" in c]
    if cli:
        lines += ["## A year from the command line, end to end", "",
                  "What a user waits for: the command's whole wall time on one core, from the interpreter's start "
                  "to its exit (imports, build, the spin-up year, the recorded year, writing the outputs). Cold: "
                  "numba's cache in an empty folder, so every compiled loop is compiled first, as on the first run "
                  "after an install; warm: the cache the runs above left.", "",
                  "| command | numba cache | wall s | CPU s |", "|---|---|---:|---:|"]
        for c in cli:
            cache = "cold (empty)" if c["cold"] else "warm"
            if "wall_s" in c:
                lines.append(f"| {c['how']} | {cache} | {c['wall_s']:.1f} | {c['cpu_s']:.1f} |")
            else:
                lines.append(f"| {c['how']} | {cache} | failed: {' '.join(c['error'])} | |")
        lines += [""]
    lines += ["## Cost scaling", "",
              f"{_year_text(steps).capitalize()} of carsi_package.yaml on one core. A run is the build (with the "
              "spin-up year) and the stepping.", "",
              "| residents | neighbourhoods | stepping s (wall) | stepping s (CPU) | stepping CPU ratio to the row "
              "above | run s (CPU) | run CPU ratio to the row above |",
              "|---:|---:|---:|---:|---:|---:|---:|"]
    res_cpu, hood_cpu = _ratios(scaling["residents"], _step_cpu), _ratios(scaling["neighbourhoods"], _step_cpu)
    res_run, hood_run = _ratios(scaling["residents"], _run_cpu), _ratios(scaling["neighbourhoods"], _run_cpu)
    for rows, step_ratios, run_ratios in ((scaling["residents"], res_cpu, res_run),
                                          (scaling["neighbourhoods"], hood_cpu, hood_run)):
        step_cells, run_cells = ([""] + [f"{x:.2f}" for x in ratios] for ratios in (step_ratios, run_ratios))
        for r, step_cell, run_cell in zip(rows, step_cells, run_cells, strict=True):  # (no ratio on a group's first)
            lines.append(f"| {r['residents']:,} | {r['neighbourhoods']} | {r['step_s']:.2f} | {r['step_cpu_s']:.2f} "
                         f"| {step_cell} | {_run_cpu(r):.2f} | {run_cell} |")
        lines.append("| | | | | | | |")
    lines.pop()

    def listed(ratios: list[float]) -> str:
        return ", ".join(f"{x:.2f}" for x in ratios)

    lines += ["", f"Doubling residents at fixed neighbourhoods multiplies stepping CPU time by {listed(res_cpu)} and "
              f"a whole run's by {listed(res_run)}; doubling neighbourhoods at fixed residents, stepping by "
              f"{listed(hood_cpu)} and a whole run by {listed(hood_run)}.", ""]
    if long_runs:
        years = long_runs[0]["years"]
        lines += [f"## Cost over long runs: {years} simulated years", "",
                  f"Every scenario file at its own settings with {LONG_RESIDENTS:,} residents, and "
                  "carsi_package.yaml at 1,000,000, each in one fresh process on one core: stepping CPU seconds "
                  "of each simulated year (after the build and spin-up). A cost that grows with simulated time "
                  "shows here and nowhere else.", "",
                  "| scenario | residents | " + " | ".join(f"year {i + 1}" for i in range(years))
                  + " | whole run s | costliest year / first |",
                  "|---|---:|" + "---:|" * years + "---:|---:|"]
        for r in long_runs:
            lines.append(f"| {r['scenario']} | {r['residents']:,} | "
                         + " | ".join(f"{x:.2f}" for x in r["year_cpu_s"])
                         + f" | {r['build_s'] + sum(r['year_s']):.1f} | {_growth(r):.2f} |")
        lines += [""]
    reps = compare[0].get("runs", 40) // 2 if compare else 20
    lines += [f"## Batch comparison: baseline.yaml vs carsi_package.yaml, {reps} replications each", ""]
    if compare:
        lines += ["Default scenarios (100,000 residents, their own horizon and spin-up), both cores.", "",
                  "| how | runs | wall s | CPU s (all processes) | CPU s / 2 cores | mean wall s per run |",
                  "|---|---:|---:|---:|---:|---:|"]
        for c in compare:
            if "error" in c:
                lines.append(f"| {c['how']} | failed: {' '.join(c['error'])} | | | | |")
            else:
                mean = f"{c['mean_run_s']:.2f}" if "mean_run_s" in c else ""
                cpu = f"{c['cpu_s']:.1f} | {c['cpu_s'] / 2:.1f}" if "cpu_s" in c else "n/a | n/a"
                lines.append(f"| {c['how']} | {c['runs']} | {c['wall_s']:.1f} | {cpu} | {mean} |")
        lines += ["", "CPU s / 2 cores is what the batch costs when it has both cores to itself; the wall time "
                  "also carries whatever else ran on the machine (load average above). The command's CPU time is "
                  "n/a: its pool's worker processes are not its own children, so the operating system does not "
                  "count them for it."]
        if not any("safestreets compare" in c["how"] for c in compare):
            lines += ["", "`safestreets compare` did not exist when this ran; only the pool of `model.api.run` "
                      "was measured."]
    else:
        lines.append("Not run (`--quick` or `--skip-compare`).")
    lines += [""]
    targets = [r for r in sizes if r["residents"] != COUNTRY_RESIDENTS] or sizes  # the three sizes
    big = max(targets, key=lambda r: r["residents"])
    small = min(targets, key=lambda r: r["residents"])
    per_res = max(r["bytes_per_resident"] for r in sizes)

    def verdict(flag: bool) -> str:  # none where the run is not one to judge by
        return _ok(flag) if not_judged is None else f"not judged ({not_judged})"

    lines += ["## Targets (issue 5)", "", "| target | measured | |", "|---|---|---|"]
    if big["residents"] >= 1_000_000:
        total = big["step_s"] + big["build_s"]
        lines.append(f"| 1,000,000 residents, 365 daily steps, one core: <= {TARGET_SECONDS_1M_YEAR:.0f} s | "
                     f"{big['step_s']:.2f} s stepping + {big['build_s']:.2f} s build (with the spin-up year) = "
                     f"{total:.2f} s | {verdict(total <= TARGET_SECONDS_1M_YEAR)} |")
        for c in cli_ok:
            if c["residents"] == big["residents"]:
                lines.append(f"| the same, end to end from the command line ({'cold' if c['cold'] else 'warm'} "
                             f"numba cache): <= {TARGET_SECONDS_1M_YEAR:.0f} s | {c['wall_s']:.1f} s wall | "
                             f"{verdict(c['wall_s'] <= TARGET_SECONDS_1M_YEAR)} |")
    lines.append(f"| model state <= {TARGET_BYTES_PER_RESIDENT:.0f} bytes per resident | "
                 f"{per_res:.1f} bytes at most (all sizes) | {verdict(per_res <= TARGET_BYTES_PER_RESIDENT)} |")
    for r in (small, big) if small is not big else (big,):
        ratio = r["agent_steps_per_s"] / mesa_rate
        lines.append(f"| >= {TARGET_MESA_RATIO:,.0f} x Mesa Epstein agent-steps/s, at {r['residents']:,} residents | "
                     f"{ratio:,.0f} x wall ({r['agent_steps_per_cpu_s'] / mesa_cpu:,.0f} x CPU), against the "
                     f"fastest Mesa run | {verdict(ratio >= TARGET_MESA_RATIO)} |")
    for c in compare:
        if "wall_s" in c:
            lines.append(f"| {c['runs']}-run comparison on both cores <= {TARGET_COMPARE_SECONDS:.0f} s ({c['how']}) | "
                         f"{c['wall_s']:.1f} s wall"
                         + (f" ({c['cpu_s'] / 2:.1f} s of CPU per core)" if "cpu_s" in c else "") + " | "
                         f"{verdict(c['wall_s'] <= TARGET_COMPARE_SECONDS)} |")
    if res_cpu:
        worst = max(max(res_cpu), max(res_run))
        lines.append(f"| doubling residents at most doubles run time | x{worst:.2f} at worst (CPU; stepping "
                     f"x{max(res_cpu):.2f}, whole run x{max(res_run):.2f}) | {verdict(worst <= 2.0)} |")
    if hood_cpu:
        worst = max(max(hood_cpu), max(hood_run))
        lines.append(f"| doubling neighbourhoods costs much less than doubling | x{worst:.2f} at worst (CPU; "
                     f"stepping x{max(hood_cpu):.2f}, whole run x{max(hood_run):.2f}) | {verdict(worst <= 1.5)} |")
    if long_runs:
        big_long = [r for r in long_runs if r["residents"] >= 1_000_000]
        for r in big_long:
            slowest = max(r["year_s"])
            within = slowest + r["build_s"] <= TARGET_SECONDS_1M_YEAR
            lines.append(f"| 1,000,000 residents, 365 daily steps, one core, in every one of {r['years']} years: "
                         f"<= {TARGET_SECONDS_1M_YEAR:.0f} s | slowest year {slowest:.2f} s stepping "
                         f"(+ {r['build_s']:.2f} s build) | {verdict(within)} |")
        worst = max(long_runs, key=_growth)
        lines += ["", "A guard of our own, beside the issue's targets: a cost that grows with simulated time.", "",
                  "| guard | measured | |", "|---|---|---|",
                  f"| no later year costs more than {LONG_GROWTH_LIMIT:g} x the first ({long_runs[0]['years']} "
                  f"years, every scenario) | x{_growth(worst):.2f} at worst ({worst['scenario']}, "
                  f"{worst['residents']:,} residents) | {verdict(_growth(worst) <= LONG_GROWTH_LIMIT)} |"]
    lines += [""]
    if profile is not None:
        calls = f"profile_10k{CALLS_SUFFIX}"
        lines += ["## Profile", "",
                  f"pyinstrument profile of the largest model size's year (construction and stepping): "
                  f"[{profile.with_suffix('.txt').name}]({profile.with_suffix('.txt').name}) (an interactive "
                  f"`{profile.with_suffix('.html').name}` is written beside it, not tracked by git: ~2 MB).", "",
                  f"cProfile of one 10,000-resident year (stepping only; its calls per step are what a step costs "
                  f"there): [{calls}]({calls}).", ""]
    text = "\n".join(lines)
    path.write_text(text, encoding="utf-8")
    return text


# ------------------------------------------------------------------------------------ main
QUICK_OUT = ROOT / "results" / "benchmarks-quick" / "RESULTS.md"


class BenchmarkSetupError(ValueError):
    """A benchmark option or prerequisite that cannot work: reported in one line, exit code 2."""


def default_out(quick: bool) -> Path:
    """Where the report goes without ``--out``: a smoke run's apart, so it never replaces the committed report."""
    return QUICK_OUT if quick else HERE / "RESULTS.md"


def _check(args: argparse.Namespace, out_folder_made: bool) -> None:
    """Everything the run needs, before it starts (a bad option found after minutes of timing loses them).
    ``out_folder_made``: the report's folder is the default one, made if missing once the checks pass."""
    for name in ("steps", "repeats", "epstein_steps", "epstein_runs", "compare_reps"):
        value = getattr(args, name)
        if value < 1:
            option = "--" + name.replace("_", "-")
            raise BenchmarkSetupError(f"{option}: expected a whole number of at least 1, found {value}")
    if args.epstein_warmup < 0:
        raise BenchmarkSetupError(f"--epstein-warmup: expected 0 or more, found {args.epstein_warmup}")
    if args.out.is_dir() or args.out.suffix == ".json":
        raise BenchmarkSetupError(f"--out: expected a Markdown file (its raw figures go beside it as .json), "
                                  f"found {args.out}")
    if not out_folder_made and not args.out.parent.is_dir():
        raise BenchmarkSetupError(f"--out: expected a file in an existing folder, found {args.out} "
                                  f"({args.out.parent} does not exist)")
    install = 'pip install -e ".[bench]"'
    try:
        import mesa.examples.advanced.epstein_civil_violence.model  # noqa: F401
    except ImportError as err:
        raise BenchmarkSetupError(f"Mesa's Epstein example cannot be imported ({err}): {install}") from None
    try:
        import pyinstrument  # noqa: F401
    except ImportError:
        raise BenchmarkSetupError(f"pyinstrument is not installed (the profile needs it): {install}") from None
    if safestreets_command() is None:
        raise BenchmarkSetupError(f"the safestreets command is not installed (the command-line rows run it): "
                                  f"{install}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Safe Streets speed and memory benchmarks.")
    parser.add_argument("--worker", choices=("model", "epstein", "long"), help=argparse.SUPPRESS)
    parser.add_argument("--years", type=int, default=LONG_YEARS, help=argparse.SUPPRESS)
    parser.add_argument("--residents", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--neighbourhoods", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--scenario", default="carsi_package.yaml", help=argparse.SUPPRESS)
    parser.add_argument("--side", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--profile", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--steps", type=int, default=365,
                        help="steps per model run (default 365: the targets are for one year of daily steps)")
    parser.add_argument("--quick", action="store_true",
                        help=f"small sizes, no batch comparison; writes {QUICK_OUT.relative_to(ROOT)} by default")
    parser.add_argument("--skip-compare", action="store_true", help="leave out the 40-run comparison")
    parser.add_argument("--compare-reps", type=int, default=20, help="replications per scenario in the comparison")
    parser.add_argument("--repeats", type=int, default=2, help="fresh runs per model size; the fastest counts")
    parser.add_argument("--epstein-runs", type=int, default=EPSTEIN_RUNS,
                        help="fresh runs of the Mesa example (one before the model sizes); the fastest counts")
    parser.add_argument("--epstein-steps", type=int, default=20, help="timed steps of the Mesa example")
    parser.add_argument("--epstein-warmup", type=int, default=5, help="untimed steps of the Mesa example first")
    parser.add_argument("--warmup", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, default=None,
                        help="Markdown report (default benchmarks/RESULTS.md; the raw figures go beside it as .json)")
    args = parser.parse_args(argv)

    if args.worker == "model":
        print(json.dumps(worker_model(args.residents, args.steps, args.neighbourhoods, args.scenario, args.profile)))
        return 0
    if args.worker == "long":
        print(json.dumps(worker_long(args.residents, args.years, args.scenario)))
        return 0
    if args.worker == "epstein":
        print(json.dumps(worker_epstein(args.side, args.steps, args.warmup)))
        return 0

    quick = args.quick
    default = args.out is None
    args.out = (default_out(quick) if default else args.out).resolve()  # (workers run from the repository root)
    try:
        _check(args, out_folder_made=default)
    except BenchmarkSetupError as err:
        print(f"run_benchmarks.py: {err}", file=sys.stderr)
        return 2
    args.out.parent.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    info = machine()
    sizes_to_run = (10_000, 100_000) if quick else (10_000, 100_000, 1_000_000)
    top = 200_000 if quick else 1_000_000
    where = args.out.parent
    profile = where / ("profile_100k.txt" if quick else "profile_1m.txt")
    repeats = 1 if quick else args.repeats
    # profiled apart: the profiler slows the run it watches
    run_model(100_000 if quick else 1_000_000, args.steps, profile=profile)
    run_model(10_000, args.steps, profile=where / ("profile_10k" + CALLS_SUFFIX))
    epstein_args = (40 if quick else EPSTEIN_SIDE, 2 if quick else args.epstein_steps)
    epstein_warmup = 1 if quick else args.epstein_warmup
    epstein_runs = run_epstein(*epstein_args, 1, warmup=epstein_warmup)  # one run before the models, the rest after
    sizes = []
    for n in sizes_to_run:
        r = run_model(n, args.steps, repeats=repeats)
        sizes.append(r)
        print(f"model {n:>9,} residents: build {r['build_s']:.2f} s, {args.steps} steps {r['step_s']:.2f} s, "
              f"{r['agent_steps_per_s']:.3g} agent-steps/s, {r['bytes_per_resident']:.1f} B/resident, "
              f"peak RSS {r['peak_rss_mb']:.0f} MB", flush=True)
    if not quick:  # once: a run takes ~15 s
        r = run_model(COUNTRY_RESIDENTS, args.steps, neighbourhoods=country_neighbourhoods())
        sizes.append(r)
        print(f"model {COUNTRY_RESIDENTS:>9,} residents in {r['neighbourhoods']:,} neighbourhoods: build "
              f"{r['build_s']:.2f} s, {args.steps} steps {r['step_s']:.2f} s, peak RSS {r['peak_rss_mb']:.0f} MB",
              flush=True)
    if args.epstein_runs > 1:
        epstein_runs += run_epstein(*epstein_args, args.epstein_runs - 1, warmup=epstein_warmup)
    epstein = best_epstein(epstein_runs)
    print(f"mesa epstein {epstein['agents']:,} agents: {epstein['agent_steps_per_s']:,.0f} agent-steps/s", flush=True)

    cli = [run_cli_year(top, cold) for cold in (True, False)]
    for c in cli:
        print(f"command line, {'cold' if c['cold'] else 'warm'} numba cache: "
              f"{c.get('wall_s', float('nan')):.1f} s", flush=True)

    scaling: dict[str, list[dict]] = {"residents": [], "neighbourhoods": []}
    for n in (top // 4, top // 2, top):
        scaling["residents"].append(run_model(n, args.steps, neighbourhoods=60, repeats=repeats))
    for k in (100, 200, 400, 800):
        scaling["neighbourhoods"].append(run_model(top, args.steps, neighbourhoods=k, repeats=repeats))
    for group, rows in scaling.items():
        print(f"scaling by {group}: " + ", ".join(
            f"{r['residents']:,}/{r['neighbourhoods']} -> {r['step_s']:.2f} s" for r in rows), flush=True)

    long_runs = []
    if not quick:
        for path in sorted(SCENARIOS.glob("*.yaml")):
            long_runs.append(run_long(LONG_RESIDENTS, LONG_YEARS, path.name))
        long_runs.append(run_long(1_000_000, LONG_YEARS, "carsi_package.yaml"))
        worst = max(long_runs, key=_growth)
        print(f"long runs ({LONG_YEARS} years): worst later year / first = {_growth(worst):.2f} "
              f"({worst['scenario']}, {worst['residents']:,} residents)", flush=True)

    compare: list[dict] = []
    if not args.skip_compare and (not quick or args.compare_reps != 20):
        cli_compare = compare_with_cli(args.compare_reps)
        if cli_compare is not None:
            compare.append(cli_compare)
        compare.append(compare_with_pool(args.compare_reps, None))
        for c in compare:
            print(f"compare ({c['how']}): {c.get('wall_s', float('nan')):.1f} s", flush=True)

    info["load"] = f"{info['load']} at the start, {' '.join(f'{x:.2f}' for x in os.getloadavg())} at the end"
    total_s = time.perf_counter() - start
    write_report(args.out, info, sizes, epstein, scaling, compare, profile, total_s, long_runs, cli,
                 not_judged="a --quick run: smaller sizes and a smaller Mesa example" if quick else None)
    measurements = {"machine": info, "sizes": sizes, "epstein": epstein, "epstein_runs": epstein_runs,
                    "scaling": scaling, "compare": compare, "long_runs": long_runs, "command_line": cli,
                    "profile": profile.name, "total_s": total_s}
    args.out.with_suffix(".json").write_text(json.dumps(measurements, indent=1), encoding="utf-8")
    print(f"wrote {args.out} and {args.out.with_suffix('.json').name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
