"""Bad input: one line naming the file and the field, exit code 2, no traceback, nothing written.

Scenario files are data. Each case below writes a small broken file next to a copy of the
baseline and runs it through ``safestreets run`` (the command a planner types); the message must
name the file and the field path, and the output folder must stay empty. The same checks run
through the Python API (``InputError``) and once through a real subprocess.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest

from model import load_scenario, parse_scenario
from model.cli import main
from model.errors import InputError

ROOT = Path(__file__).resolve().parents[1]
BASELINE = ROOT / "scenarios" / "baseline.yaml"


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """A scratch folder holding a copy of the baseline (so ``extends: baseline.yaml`` works)."""
    shutil.copy(BASELINE, tmp_path / "baseline.yaml")
    return tmp_path


def run_cli(capsys, args: list[str]) -> tuple[int, str, str]:
    code = main(args)
    out, err = capsys.readouterr()
    return code, out, err


def assert_one_line_error(code: int, err: str, *must_contain: str) -> str:
    assert code == 2
    assert "Traceback" not in err
    lines = err.strip("\n").split("\n")
    assert len(lines) == 1, err
    for text in must_contain:
        assert text in lines[0], (text, lines[0])
    return lines[0]


def assert_nothing_written(out_dir: Path) -> None:
    assert not out_dir.exists() or not any(out_dir.rglob("*")), sorted(out_dir.rglob("*"))


# (file name, YAML text, strings the one-line message must contain)
CASES = [
    ("unknown_key.yaml", "extends: baseline.yaml\ncity:\n  residentz: 5000\n",
     ["unknown_key.yaml", "city.residentz", "did you mean 'residents'"]),
    ("unknown_top.yaml", "extends: baseline.yaml\nyear: 2\n", ["unknown_top.yaml", "year", "did you mean 'years'"]),
    ("wrong_type.yaml", "city:\n  residents: many\n", ["wrong_type.yaml", "city.residents", "'many'"]),
    ("out_of_range.yaml", "city:\n  youth_share: 0.9\n", ["out_of_range.yaml", "city.youth_share", "0.9"]),
    ("bad_enum.yaml", "police:\n  strategy: hotspots\n",
     ["bad_enum.yaml", "police.strategy", "did you mean 'hotspot'"]),
    ("school_work.yaml", "city:\n  school_enrolment: 0.8\n  youth_employment: 0.3\n",
     ["school_work.yaml", "city", "school_enrolment + youth_employment <= 1", "1.1"]),
    ("crossings.yaml", "trafficking:\n  crossings: 2\n  city_crossings: 3\n",
     ["crossings.yaml", "trafficking", "city_crossings <= crossings"]),
    ("window.yaml", "interventions:\n  - type: rule_of_law\n    start_year: 2\n    end_year: 1\n",
     ["window.yaml", "interventions[0]", "end_year"]),
    ("late_start.yaml", "years: 1\ninterventions:\n  - type: youth_programs\n    start_year: 2\n",
     ["late_start.yaml", "interventions[0].start_year"]),
    ("programme.yaml", "interventions:\n  - type: youth_program\n",
     ["programme.yaml", "interventions[0].type", "did you mean 'youth_programs'"]),
    ("programme_field.yaml", "interventions:\n  - type: youth_programs\n    coverag: 0.3\n",
     ["programme_field.yaml", "interventions[0].coverag", "did you mean 'coverage'"]),
    ("target_id.yaml", "city:\n  neighbourhoods: 10\ninterventions:\n  - type: hotspot_patrol\n"
     "    target: {ids: [3, 40]}\n", ["target_id.yaml", "interventions[0].target.ids", "40"]),
    ("per_type.yaml", "police:\n  clearance: {homicide: 0.3, robbery: 0.1, extortion: 0.1, asault: 0.1, "
     "drug_sale: 0.1}\n", ["per_type.yaml", "police.clearance", "did you mean 'assault'"]),
    ("missing_parent.yaml", "extends: nothere.yaml\n", ["missing_parent.yaml", "extends", "nothere.yaml"]),
    ("syntax.yaml", "city:\n  residents: [1, 2\n", ["syntax.yaml", "line", "valid YAML"]),
    ("duplicate.yaml", "city:\n  residents: 1000\n  residents: 2000\n",
     ["duplicate.yaml", "line 3", "duplicate key 'residents'"]),
    ("not_mapping.yaml", "- just\n- a list\n", ["not_mapping.yaml", "mapping"]),
    ("bad_name.yaml", "name: ../../etc\n", ["bad_name.yaml", "name"]),
]


@pytest.mark.parametrize("name,text,expected", CASES, ids=[c[0].removesuffix(".yaml") for c in CASES])
def test_bad_scenario_file_gives_one_line_and_writes_nothing(folder: Path, capsys, name, text, expected):
    path = folder / name
    path.write_text(text, encoding="utf-8")
    out_dir = folder / "out"
    code, out, err = run_cli(capsys, ["run", str(path), "--out", str(out_dir), "--quiet", "--no-plot"])
    assert_one_line_error(code, err, *expected)
    assert out == ""
    assert_nothing_written(out_dir)
    # the API raises the same single-line error
    with pytest.raises(InputError) as info:
        load_scenario(path)
    assert "\n" not in str(info.value)
    assert str(info.value) == err.strip()


def test_extends_cycle_is_reported_not_followed(folder: Path, capsys):
    (folder / "a.yaml").write_text("extends: b.yaml\n", encoding="utf-8")
    (folder / "b.yaml").write_text("extends: a.yaml\n", encoding="utf-8")
    code, _, err = run_cli(capsys, ["run", str(folder / "a.yaml"), "--out", str(folder / "out"), "--quiet"])
    line = assert_one_line_error(code, err, "extends", "cycle", "a.yaml -> b.yaml")
    assert "a.yaml" in line.split(":")[0] or "b.yaml" in line.split(":")[0]
    assert_nothing_written(folder / "out")


def test_python_object_tags_are_never_evaluated(folder: Path, capsys):
    marker = folder / "evaluated"
    path = folder / "evil.yaml"
    path.write_text(f'city: !!python/object/apply:os.system ["touch {marker}"]\n'
                    f'name: !!python/object/apply:builtins.print ["evaluated"]\n', encoding="utf-8")
    code, out, err = run_cli(capsys, ["run", str(path), "--out", str(folder / "out"), "--quiet"])
    assert_one_line_error(code, err, "evil.yaml", "tag", "python/object/apply")
    assert not marker.exists()
    assert "evaluated" not in out
    assert_nothing_written(folder / "out")


def test_missing_scenario_file(folder: Path, capsys):
    code, _, err = run_cli(capsys, ["run", str(folder / "nope.yaml"), "--out", str(folder / "out")])
    assert_one_line_error(code, err, "nope.yaml", "no such file")
    assert_nothing_written(folder / "out")


@pytest.mark.parametrize("override,expected", [
    ("city.residentz=3000", ["--set", "city.residentz", "did you mean 'residents'"]),
    ("city.residents=lots", ["--set", "city.residents", "'lots'"]),
    ("city.youth_share=2", ["--set", "city.youth_share"]),
    ("city", ["--set", "city", "dotted.path=value"]),
    ("city..residents=5", ["--set", "city..residents"]),
    ("interventions.3.intensity=1", ["--set", "interventions.3.intensity", "list index"]),
    ("years.value=3", ["--set", "years.value"]),
])
def test_bad_set_override_gives_one_line_and_writes_nothing(folder: Path, capsys, override, expected):
    out_dir = folder / "out"
    code, _, err = run_cli(capsys, ["run", str(folder / "baseline.yaml"), "--set", override,
                                    "--out", str(out_dir), "--quiet"])
    assert_one_line_error(code, err, *expected)
    assert_nothing_written(out_dir)


def test_good_set_overrides_are_applied_in_place():
    sc = load_scenario(BASELINE, overrides=["city.residents=12345", "police.strategy=uniform",
                                            "crime.homicide_rate=80.5", "justice.detain_pending=false"])
    assert sc.city.residents == 12345
    assert sc.police.strategy == "uniform"
    assert sc.crime.homicide_rate == 80.5
    assert sc.justice.detain_pending is False
    assert sc.city.neighbourhoods == 60  # untouched fields keep the file's values
    programme = load_scenario(ROOT / "scenarios" / "youth_programs.yaml", overrides=["interventions.0.coverage=0.5"])
    assert programme.interventions[0].coverage == 0.5


def test_bad_command_line_values_exit_2_with_one_line(folder: Path, capsys):
    for args in (["run", str(BASELINE), "--years", "0"], ["run", str(BASELINE), "--seed", "-3"],
                 ["run", str(BASELINE), "--years", "soon"], ["frobnicate"]):
        with pytest.raises(SystemExit) as info:
            main([*args, "--out", str(folder / "out")] if args[0] == "run" else args)
        _, err = capsys.readouterr()
        assert info.value.code == 2
        assert len(err.strip().split("\n")) == 1 and "Traceback" not in err
    assert_nothing_written(folder / "out")


def test_validate_reports_one_line_per_bad_file_and_ok_for_good_ones(folder: Path, capsys):
    (folder / "bad1.yaml").write_text("city:\n  residentz: 1\n", encoding="utf-8")
    (folder / "bad2.yaml").write_text("gangs:\n  count: -1\n", encoding="utf-8")
    code, out, err = run_cli(capsys, ["validate", str(folder / "bad1.yaml"), str(BASELINE), str(folder / "bad2.yaml")])
    assert code == 2
    lines = err.strip().split("\n")
    assert len(lines) == 2
    assert "bad1.yaml" in lines[0] and "city.residentz" in lines[0]
    assert "bad2.yaml" in lines[1] and "gangs.count" in lines[1]
    assert "baseline.yaml: ok" in out
    code, out, err = run_cli(capsys, ["validate", str(BASELINE)])
    assert code == 0 and err == "" and "ok" in out


def test_schema_is_valid_json_schema_with_interventions_and_extends(capsys):
    code, out, _ = run_cli(capsys, ["schema"])
    assert code == 0
    schema = json.loads(out)
    jsonschema.Draft202012Validator.check_schema(schema)
    assert "interventions" in schema["properties"]
    assert "extends" in schema["properties"]
    assert schema["additionalProperties"] is False
    # the shipped files (as plain data) validate against it, and a typo does not
    import yaml

    validator = jsonschema.Draft202012Validator(schema)
    data = yaml.safe_load((ROOT / "scenarios" / "carsi_package.yaml").read_text())
    assert not list(validator.iter_errors(data))
    assert list(validator.iter_errors({"city": {"residentz": 5}}))
    # every registered programme type is in the schema
    text = json.dumps(schema)
    from model.interventions import REGISTRY

    assert all(f'"{name}"' in text for name in REGISTRY)


def test_parse_scenario_names_its_source():
    with pytest.raises(InputError) as info:
        parse_scenario({"gangs": {"count": "two"}}, source="from-notebook")
    assert str(info.value).startswith("from-notebook: gangs.count: expected")


def test_through_a_real_process_exit_code_2_and_no_traceback(folder: Path):
    bad = folder / "bad.yaml"
    bad.write_text("extends: baseline.yaml\ncity:\n  residentz: 5000\n", encoding="utf-8")
    out_dir = folder / "out"
    proc = subprocess.run([sys.executable, "-m", "model", "run", str(bad), "--out", str(out_dir)],
                          capture_output=True, text=True, cwd=folder, timeout=120)
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert proc.stderr.strip().count("\n") == 0
    assert "bad.yaml" in proc.stderr and "city.residentz" in proc.stderr
    assert proc.stdout == ""
    assert_nothing_written(out_dir)
