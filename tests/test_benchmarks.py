"""The benchmark script measures what issue 5 names and writes its report; no test here times anything.

``benchmarks/run_benchmarks.py --quick`` runs end to end as a user would (fresh processes, the Mesa
example, the command line cold and warm, the profiles) into a temporary folder; the tests read what it
wrote. Its speed figures are not judged here (speed lives in the benchmark's own report): the tests check
that the figures are there, that they are the ones the raw measurements give, and that each target's
verdict follows its number.
"""

from __future__ import annotations

import dataclasses
import functools
import importlib.util
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
import simkit

from model.population import Population

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "benchmarks" / "run_benchmarks.py"


@functools.cache
def _bench():
    """benchmarks/run_benchmarks.py as a module (it is a script, not part of the package), loaded once."""
    spec = importlib.util.spec_from_file_location("run_benchmarks", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def quick(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str, dict]:
    """One --quick run into a temporary folder: (folder, report text, raw figures)."""
    out = tmp_path_factory.mktemp("bench") / "RESULTS.md"
    committed = (ROOT / "benchmarks" / "RESULTS.md").read_bytes()
    done = subprocess.run([sys.executable, str(SCRIPT), "--quick", "--out", str(out)], cwd=ROOT,
                          capture_output=True, text=True, timeout=900, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    assert (ROOT / "benchmarks" / "RESULTS.md").read_bytes() == committed  # a smoke run leaves the report alone
    return out.parent, out.read_text(encoding="utf-8"), json.loads(out.with_suffix(".json").read_text())


def _table(text: str, heading: str) -> list[list[str]]:
    """The rows (cells stripped) of the first Markdown table after ``heading``, header and rule left out."""
    rows, section = [], text.split(heading, 1)[1]
    for line in section.splitlines():
        if line.startswith("|"):
            rows.append([cell.strip() for cell in line.strip("|").split("|")])
        elif rows:
            break
    return rows[2:]


@pytest.mark.slow
def test_quick_run_reports_every_size_the_machine_and_mesas_example(quick) -> None:
    folder, text, raw = quick
    for part in ("## Machine", "- CPU:", "- Git commit:", "## The full model", "## Against Mesa's Epstein",
                 "## A year from the command line", "## Cost scaling", "## Targets (issue 5)", "## Profile"):
        assert part in text, part
    rows = _table(text, "## The full model")
    assert [row[0] for row in rows] == ["10,000", "100,000"]
    for row, size in zip(rows, raw["sizes"], strict=True):
        assert size["steps"] == 365 and size["scenario"] == "carsi_package.yaml"
        # agent-steps per second are residents x steps / stepping seconds, as printed
        assert size["agent_steps_per_s"] == pytest.approx(size["residents"] * 365 / size["step_s"])
        assert float(row[5]) == pytest.approx(size["agent_steps_per_s"], rel=6e-3)
        assert 0 < size["bytes_per_resident"] < 1000 and size["peak_rss_mb"] > size["rss_imported_mb"] > 0
    assert raw["epstein"]["agents"] > 1000 and len(raw["epstein_runs"]) == _bench().EPSTEIN_RUNS
    assert [c["cold"] for c in raw["command_line"]] == [True, False] and all("wall_s" in c for c in raw["command_line"])


@pytest.mark.slow
def test_quick_ratios_are_the_rates_over_the_fastest_mesa_run(quick) -> None:
    _, text, raw = quick
    fastest = max(run["agent_steps_per_s"] for run in raw["epstein_runs"])
    assert raw["epstein"]["agent_steps_per_s"] == fastest
    rows = _table(text, "## Against Mesa's Epstein")
    assert rows[0][0].startswith("Mesa Epstein")
    for row, size in zip(rows[1:], raw["sizes"], strict=True):
        assert int(row[2].replace(",", "")) == round(size["agent_steps_per_s"] / fastest)


@pytest.mark.slow
def test_quick_run_keeps_its_profiles_and_judges_no_target(quick) -> None:
    folder, text, _ = quick
    profile = (folder / "profile_100k.txt").read_text(encoding="utf-8")
    calls = (folder / "profile_10k_calls.txt").read_text(encoding="utf-8")
    assert "SecurityModel" in profile and "step" in calls
    assert str(ROOT) not in profile + calls  # paths relative to the repository: readable on other machines
    verdicts = [row[-1] for row in _table(text, "## Targets (issue 5)")]
    assert verdicts and all(v.startswith("not judged (a --quick run") for v in verdicts), verdicts


def _full_run(raw: dict, mesa_rate: float, seconds_1m: float) -> dict:
    """The quick run's figures dressed as a full run: a 1,000,000-resident row whose year takes ``seconds_1m``,
    and a Mesa example at ``mesa_rate`` agent-steps a second."""
    big = dict(raw["sizes"][-1], residents=1_000_000, build_s=1.0, step_s=seconds_1m - 1.0)
    big["agent_steps_per_s"] = big["residents"] * 365 / big["step_s"]
    epstein = dict(raw["epstein"], agent_steps_per_s=mesa_rate, agent_steps_per_cpu_s=mesa_rate)
    return {**raw, "sizes": [*raw["sizes"], big], "epstein": epstein}


def _report(figures: dict, path: Path) -> str:
    """The report of ``figures`` (a run's raw figures, as RESULTS.json holds them), without a profile."""
    return _bench().write_report(path, figures["machine"], figures["sizes"], figures["epstein"], figures["scaling"],
                                 figures["compare"], None, 1.0, figures["long_runs"], figures["command_line"])


@pytest.mark.slow
@pytest.mark.parametrize("seconds_1m", [19.5, 20.5])
def test_each_targets_verdict_follows_its_number(quick, tmp_path: Path, seconds_1m: float) -> None:
    _, _, raw = quick
    small = raw["sizes"][0]
    mesa_rate = small["agent_steps_per_s"] / 1000.5  # the 10,000-resident ratio just above 1,000
    text = _report(_full_run(raw, mesa_rate, seconds_1m), tmp_path / "R.md")
    verdicts = {row[0]: row[-1] for row in _table(text, "## Targets (issue 5)")}
    year = verdicts["1,000,000 residents, 365 daily steps, one core: <= 20 s"]
    assert year == ("met" if seconds_1m <= 20 else "**not met**")
    assert verdicts[">= 1,000 x Mesa Epstein agent-steps/s, at 10,000 residents"] == "met"
    text = _report(_full_run(raw, small["agent_steps_per_s"] / 999.5, seconds_1m), tmp_path / "R.md")
    verdicts = {row[0]: row[-1] for row in _table(text, "## Targets (issue 5)")}
    assert verdicts[">= 1,000 x Mesa Epstein agent-steps/s, at 10,000 residents"] == "**not met**"
    assert verdicts["model state <= 200 bytes per resident"] == "met"


@pytest.mark.slow
def test_a_run_of_fewer_steps_than_a_year_is_not_judged(quick, tmp_path: Path) -> None:
    _, _, raw = quick
    text = _report({**raw, "sizes": [dict(r, steps=30) for r in raw["sizes"]]}, tmp_path / "R.md")
    assert "30 recorded daily steps (not a year)" in text
    assert all(row[-1] == "not judged (30 steps, not 365)" for row in _table(text, "## Targets (issue 5)"))


def test_model_state_counts_every_array_of_a_row_per_person() -> None:
    m = simkit.build(residents=3000, neighbourhoods=6)
    people = m.people
    per_person = [f.name for f in dataclasses.fields(Population) if f.name != "block_start"]
    for name in per_person:  # every field but block_start has a row per person, and nbytes counts it
        assert getattr(people, name).shape[0] == people.size, name
    assert people.nbytes() == sum(getattr(people, name).nbytes for name in per_person)
    state = _bench().state_bytes(m)
    assert state["people"] == people.nbytes() + people.block_start.nbytes
    assert state["state"] == state["people"] + state["neighbourhoods"] + state["justice"] + state["programmes"]
    assert state["neighbourhoods"] >= m.control.nbytes + m.gang_members.nbytes > 0


def test_the_mesa_worker_runs_mesas_own_example_at_about_10000_agents() -> None:
    bench = _bench()
    run = bench._subprocess(["epstein", "--side", str(bench.EPSTEIN_SIDE), "--steps", "1", "--warmup", "0"])
    assert run["kind"] == "epstein" and 9_500 <= run["agents"] <= 10_500
    assert run["agent_steps_per_s"] == pytest.approx(run["agents"] / run["step_s"])


def _listing(folder: Path) -> list[str] | None:
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else None


@pytest.mark.parametrize(("option", "message"), [
    (["--epstein-steps", "0"], "--epstein-steps: expected a whole number of at least 1, found 0"),
    (["--repeats", "0"], "--repeats: expected a whole number of at least 1, found 0"),
    (["--out", "{tmp}/no-such-folder/RESULTS.md"], "--out: expected a file in an existing folder"),
    (["--out", "{tmp}"], "--out: expected a Markdown file"),
    (["--out", "{tmp}/RESULTS.json"], "--out: expected a Markdown file"),
    (["--quick", "--repeats", "0"], "--repeats: expected a whole number of at least 1, found 0"),
])
def test_bad_options_stop_at_once_in_one_line_and_write_nothing(tmp_path: Path, option: list[str],
                                                                message: str) -> None:
    bench = _bench()
    option = [o.format(tmp=tmp_path) for o in option]
    if "--out" not in option:  # (written nowhere else either: the run's own folder and the default ones)
        option += ["--out", str(tmp_path / "RESULTS.md")] if "--quick" not in option else []
    committed = (ROOT / "benchmarks" / "RESULTS.md").read_bytes()
    quick_folder = _listing(bench.default_out(quick=True).parent)
    done = subprocess.run([sys.executable, str(SCRIPT), *option], cwd=ROOT, capture_output=True, text=True,
                          timeout=120, check=False)
    assert done.returncode == 2 and done.stdout == ""
    assert re.fullmatch(r"run_benchmarks\.py: [^\n]+\n", done.stderr) and message in done.stderr, done.stderr
    assert (ROOT / "benchmarks" / "RESULTS.md").read_bytes() == committed
    assert _listing(tmp_path) == [] and _listing(bench.default_out(quick=True).parent) == quick_folder


def test_a_smoke_run_reports_apart_from_the_committed_report() -> None:
    bench = _bench()
    assert bench.default_out(quick=False) == ROOT / "benchmarks" / "RESULTS.md"
    quick = bench.default_out(quick=True)
    assert quick.parent != ROOT / "benchmarks" and quick.is_relative_to(ROOT / "results")
    ignored = subprocess.run(["git", "check-ignore", "-q", str(quick)], cwd=ROOT, check=False)
    assert ignored.returncode == 0  # results/ is not tracked: a smoke run leaves the work tree clean
