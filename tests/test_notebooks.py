"""The notebooks in experiments/ run end to end on small settings, in a kernel of this interpreter.

The kernel is declared in a temporary kernelspec whose argv is ``sys.executable``, found through
``JUPYTER_PATH``, so the test uses the environment pytest runs in (a fresh CI venv included), not
whatever ``python3`` kernel the machine happens to have. Parameters are injected as a cell right
after the cell tagged ``parameters`` (as papermill does); results go to a temporary folder.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]
EXPERIMENTS = ROOT / "experiments"
KERNEL = "safestreets-test"


@pytest.fixture
def kernel(tmp_path, monkeypatch):
    spec = tmp_path / "jupyter" / "kernels" / KERNEL
    spec.mkdir(parents=True)
    (spec / "kernel.json").write_text(json.dumps({
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "Safe Streets test kernel", "language": "python",
    }))
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path / "jupyter"))
    return KERNEL


def execute(name: str, parameters: dict[str, object], kernel_name: str) -> nbformat.NotebookNode:
    nb = nbformat.read(EXPERIMENTS / name, as_version=4)
    tagged = [i for i, c in enumerate(nb.cells) if "parameters" in c.get("metadata", {}).get("tags", [])]
    assert len(tagged) == 1, f"{name}: expected one cell tagged 'parameters', found {len(tagged)}"
    injected = nbformat.v4.new_code_cell("\n".join(f"{k} = {v!r}" for k, v in parameters.items()))
    nb.cells.insert(tagged[0] + 1, injected)
    client = NotebookClient(nb, kernel_name=kernel_name, timeout=600,
                            resources={"metadata": {"path": str(EXPERIMENTS)}})
    client.execute()
    return nb


def outputs_text(nb: nbformat.NotebookNode) -> str:
    parts = []
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            parts.append(out.get("text", ""))
            parts.append(str(out.get("data", {}).get("text/plain", "")))
    return "\n".join(parts)


def images(nb: nbformat.NotebookNode) -> int:
    return sum("image/png" in out.get("data", {}) for c in nb.cells for out in c.get("outputs", []))


@pytest.mark.slow
def test_scenario_comparison_notebook_runs(kernel, tmp_path):
    out = tmp_path / "results"
    nb = execute("scenario_comparison.ipynb", {"REPS": 2, "RESIDENTS": 4000, "NEIGHBOURHOODS": 16, "YEARS": 0.4,
                                               "OUT": str(out), "EXECUTOR": "serial"}, kernel)
    text = outputs_text(nb)
    assert "2 ok runs" not in text and "4 ok runs, 0 failed" in text  # both scenarios x 2 replications
    assert "verdict" in text and "cost_per_averted" in text and "neighbours" in text
    assert images(nb) >= 3  # bands, forest plot, map
    assert (out / "compare_baseline_vs_carsi_package" / "report.html").exists()


@pytest.mark.slow
def test_parameter_sweep_notebook_runs(kernel, tmp_path):
    out = tmp_path / "results"
    nb = execute("parameter_sweep.ipynb", {"REPS": 1, "RESIDENTS": 3000, "NEIGHBOURHOODS": 10, "YEARS": 0.2,
                                           "SOBOL_N": 2, "MORRIS_TRAJECTORIES": 2, "OUT": str(out),
                                           "EXECUTOR": "serial"}, kernel)
    text = outputs_text(nb)
    assert "ST" in text and "mu_star" in text
    assert "interventions.0.coverage" in text and "police.officers_per_100k" in text
    assert images(nb) >= 3
    assert (out / "youth_vs_police_sobol_small").is_dir() and (out / "youth_vs_police_morris_small").is_dir()
