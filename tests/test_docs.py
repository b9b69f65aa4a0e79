"""The scenario guide's field tables match the typed scenario (docs/tables.py --check).

The tables in docs/scenarios.md are generated from the pydantic fields; a field added, removed
or re-described in the code without re-running ``python docs/tables.py`` must fail here.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TABLES = ROOT / "docs" / "tables.py"
GUIDE = ROOT / "docs" / "scenarios.md"


def _check(guide: Path | None = None) -> subprocess.CompletedProcess[str]:
    """Run ``docs/tables.py --check`` in a fresh interpreter (optionally against another guide)."""
    if guide is None:
        args = [sys.executable, str(TABLES), "--check"]
    else:  # the same script, its GUIDE pointed at a copy of the guide
        code = (
            "import runpy, sys\n"
            "from pathlib import Path\n"
            f"main = runpy.run_path({str(TABLES)!r}, run_name='tables')['main']\n"
            f"main.__globals__['GUIDE'] = Path({str(guide)!r})\n"
            "sys.exit(main(['--check']))\n"
        )
        args = [sys.executable, "-c", code]
    return subprocess.run(args, cwd=ROOT, capture_output=True, text=True, timeout=120, check=False)


def test_field_tables_are_up_to_date() -> None:
    result = _check()
    assert result.returncode == 0, (
        "docs/scenarios.md field tables are out of date; run `python docs/tables.py`\n" + result.stderr
    )


def test_check_fails_on_a_stale_table(tmp_path: Path) -> None:
    """The check is not vacuous: a guide whose table lost a row is reported, with exit code 1."""
    text = GUIDE.read_text(encoding="utf-8")
    row = next(line for line in text.splitlines() if line.startswith("| `spin_up_years` |"))
    stale = tmp_path / "scenarios.md"
    stale.write_text(text.replace(row + "\n", "", 1), encoding="utf-8")
    result = _check(stale)
    assert result.returncode == 1, result.stderr
    assert "out of date" in result.stderr
