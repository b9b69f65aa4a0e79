"""model.report: a self-contained HTML report from a results folder or in-memory tables."""

from __future__ import annotations

import base64
from html.parser import HTMLParser
from pathlib import Path

import pytest

from model import analysis
from model.report import build_report, write_report

SMALL = ["city.residents=5000", "city.neighbourhoods=20"]
ROOT = Path(__file__).resolve().parents[1]


class _Audit(HTMLParser):
    """Collects every URL-bearing attribute, the images, the headings and checks tag balance."""

    VOID = {"img", "meta", "br", "hr", "link", "input", "col", "source"}

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[tuple[str, str, str]] = []
        self.images: list[str] = []
        self.headings: list[str] = []
        self.stack: list[str] = []
        self.errors: list[str] = []
        self._in_h = False

    def handle_starttag(self, tag, attrs):  # noqa: ANN001
        for name, value in attrs:
            if name in ("src", "href", "data", "poster", "action") and value is not None:
                self.urls.append((tag, name, value))
        if tag == "img":
            self.images.append(dict(attrs).get("src", ""))
        if tag in ("h1", "h2", "h3"):
            self._in_h = True
            self.headings.append("")
        if tag not in self.VOID:
            self.stack.append(tag)

    def handle_endtag(self, tag):  # noqa: ANN001
        if tag in self.VOID:
            return
        if not self.stack or self.stack[-1] != tag:
            self.errors.append(f"unbalanced </{tag}> (open: {self.stack[-3:]})")
            return
        self.stack.pop()
        if tag in ("h1", "h2", "h3"):
            self._in_h = False

    def handle_data(self, data):  # noqa: ANN001
        if self._in_h:
            self.headings[-1] += data


def audit(text: str) -> _Audit:
    a = _Audit()
    a.feed(text)
    a.close()
    return a


def assert_self_contained(text: str) -> _Audit:
    a = audit(text)
    assert text.startswith("<!DOCTYPE html>")
    assert a.errors == [] and a.stack == []
    # nothing is fetched: every src/href is an embedded data: URL
    assert all(v.startswith("data:image/png;base64,") for _, _, v in a.urls), a.urls
    assert "http://" not in text and "https://" not in text
    assert "<script" not in text and "<link" not in text and "@import" not in text
    for src in a.images:  # every image decodes to a PNG
        assert base64.b64decode(src.split(",", 1)[1])[:8] == b"\x89PNG\r\n\x1a\n"
    return a


@pytest.fixture(scope="module")
def compared(tmp_path_factory):
    from model import compare

    out = tmp_path_factory.mktemp("results")
    return compare(ROOT / "scenarios/baseline.yaml", ROOT / "scenarios/carsi_package.yaml", reps=2, years=0.5,
                   overrides=SMALL, out=out, executor="serial", progress=False)


def test_report_of_a_results_folder_is_self_contained_with_every_section(compared):
    path = write_report(compared.path)
    assert path == compared.path / "report.html"
    text = path.read_text(encoding="utf-8")
    a = assert_self_contained(text)
    # time series, forest plot, map, ranking, displacement
    assert len(a.images) >= 5
    heads = " | ".join(a.headings)
    for section in ("Headline results", "Outcomes over time", "Effect sizes", "Change by neighbourhood",
                    "Displacement", "Reproducing these results"):
        assert section in heads
    assert "carsi_package" in a.headings[0] and "baseline" in a.headings[0]
    assert "95% CI" in text and "2 replications" in text
    assert "per homicide averted" in text and "per crime averted" in text
    manifest = compared.manifest
    assert ", ".join(map(str, manifest["seeds"])) in text
    assert str(manifest["git_commit"]) in text
    assert manifest["versions"]["mesa"] in text


def test_report_numbers_are_the_analysis_numbers(compared):
    text = write_report(compared, compared.path / "r2.html").read_text(encoding="utf-8")
    e = analysis.effects(compared.summary, "baseline", ["robberies"]).iloc[0]
    from model.report import _num

    assert f"{_num(e['baseline_mean'])}</td><td class=''>{_num(e['scenario_mean'])}" in text


def test_report_from_in_memory_runs_and_without_a_comparison():
    from model import run

    runs = [(name, rep, run(ROOT / f"scenarios/{name}.yaml", seed=seed, years=0.25, overrides=SMALL))
            for name in ("baseline", "youth_programs") for rep, seed in enumerate((3, 4))]
    t = analysis.tables_from_runs(runs)
    text = build_report(t.summary, t.timeseries(), t.neighbourhoods(), manifest=t.manifest, runs=t.runs)
    a = assert_self_contained(text)
    assert len(a.images) >= 5
    only = analysis.tables_from_runs([r for r in runs if r[0] == "baseline"])
    text = build_report(only.summary, only.timeseries(), only.neighbourhoods(), manifest=only.manifest)
    a = assert_self_contained(text)
    assert "nothing to compare" in text and len(a.images) == 1


def test_write_report_needs_a_destination_for_in_memory_tables(tmp_path):
    from model import run

    r = run(ROOT / "scenarios/baseline.yaml", seed=1, years=0.1, overrides=SMALL)
    t = analysis.tables_from_runs([("baseline", 0, r), ("copy", 0, r)])
    with pytest.raises(ValueError, match="out="):
        write_report(t)
    out = write_report(t, tmp_path / "sub" / "report.html")
    assert out.exists() and not list((tmp_path / "sub").glob(".report-*"))
