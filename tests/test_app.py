"""The trainer dashboard: the pair of cities it builds and steps, its figures and exports, its
command, and the page itself in a real browser (Debian's chromium driven by Playwright).
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from model.cli import main
from model.dashboard import CHART_OUTCOMES, MAP_OUTCOMES, Comparison, Readout, Settings, build_pair
from model.dashboard.export import frame_steps, save_charts_png, save_gif, save_maps_png
from model.dashboard.figures import chart_series, charts_figure, map_figure, money
from model.errors import InputError
from model.model import SecurityModel

ROOT = Path(__file__).resolve().parents[1]
SCENARIOS = ROOT / "scenarios"
CHROMIUM = "/usr/bin/chromium"


def small(programmes: tuple[tuple[str, float], ...] | None = (), scenario: str = "baseline.yaml",
          seed: int | None = None) -> Settings:
    return Settings(scenario, size="small", seed=seed, programmes=programmes, folder=str(SCENARIOS))


@pytest.fixture(scope="module")
def youth() -> Comparison:
    """A town with youth programmes and community policing on the with side, 90 days in."""
    c = Comparison(small((("community_policing", 1.0), ("youth_programs", 1.0))))
    c.step(90)
    return c


# ---- choosing the two scenarios --------------------------------------------------------------------


def test_switches_build_the_with_side_from_the_files() -> None:
    without, with_ = build_pair(small((("youth_programs", 2.0),)))
    assert without.interventions == []
    assert (without.city.residents, without.city.neighbourhoods) == (20_000, 20)
    assert without.seed == with_.seed
    assert without.model_dump(exclude={"name", "interventions"}) == with_.model_dump(exclude={"name", "interventions"})
    [youth] = with_.interventions
    # settings from scenarios/youth_programs.yaml (not in baseline.yaml), intensity from the slider
    assert (youth.target.top_k, youth.target.by, youth.coverage, youth.intensity) == (20, "gang_members", 0.3, 2.0)


def test_the_files_programmes_unless_switched() -> None:
    _, as_file = build_pair(small(None, "carsi_package.yaml"))
    assert [p.type for p in as_file.interventions] == [
        "community_policing", "youth_programs", "hotspot_patrol", "rule_of_law", "border_interdiction"]
    _, one = build_pair(small((("rule_of_law", 0.5),), "carsi_package.yaml"))
    assert [(p.type, p.intensity) for p in one.interventions] == [("rule_of_law", 0.5)]
    with pytest.raises(InputError, match="a programme, one of"):
        build_pair(small((("curfew", 1.0),)))
    with pytest.raises(InputError, match="size"):
        build_pair(Settings("baseline.yaml", size="huge", folder=str(SCENARIOS)))


# ---- stepping the pair -----------------------------------------------------------------------------


def test_with_everything_switched_off_the_two_sides_are_identical() -> None:
    c = Comparison(small(()))
    assert c.step(45) == 45
    v = c.view()
    for name, values in v.series.items():
        assert values.shape == (2, 45)
        np.testing.assert_array_equal(values[0], values[1], err_msg=name)
    for name in MAP_OUTCOMES:
        np.testing.assert_array_equal(v.hood[name][0], v.hood[name][1], err_msg=name)
    assert v.readout.homicides_averted == 0 and v.readout.cost_usd == 0
    assert v.readout.cost_per_homicide_averted is None
    assert not v.targeted.any()


def test_the_without_side_is_the_plain_model_and_the_with_side_pays(youth: Comparison) -> None:
    v = youth.view()
    plain = SecurityModel(youth.scenarios[0], seed=youth.scenarios[0].seed).run(90)
    np.testing.assert_array_equal(v.series["homicides"][0], plain.recorder.city[:90, 0])
    cost = v.series["cost_usd"]
    assert cost[0].sum() == 0 and cost[1].sum() > 0
    assert v.readout.cost_usd == pytest.approx(cost[1].sum())
    assert not np.array_equal(v.series["trust"][0], v.series["trust"][1])  # community policing builds trust
    assert v.targeted.any() and not v.targeted.all()  # top-20-by-gang-members targets in a 20-hood town
    assert v.programmes == ("Community policing", "Youth programs")


def test_steps_stop_at_the_horizon_and_past_views_stay() -> None:
    c = Comparison(Settings("baseline.yaml", size="small", programmes=(("hotspot_patrol", 1.0),),
                            folder=str(SCENARIOS)))
    early = c.step(10) and c.view()
    c.step(20)
    again = c.view(10)
    for name in CHART_OUTCOMES:
        np.testing.assert_array_equal(early.series[name], again.series[name])
    for name in MAP_OUTCOMES:
        np.testing.assert_array_equal(early.hood[name], again.hood[name])
    with pytest.raises(ValueError, match="0..30"):
        c.view(31)
    remaining = c.total_steps - c.steps_done
    assert c.step(remaining + 500) == c.total_steps and c.finished
    assert c.view().steps == (c.total_steps, c.total_steps)


def test_readout_arithmetic() -> None:
    r = Readout(days=30, homicides=(12, 8), crimes=(900, 850), cost_usd=2e6)
    assert (r.homicides_averted, r.crimes_averted, r.cost_per_homicide_averted) == (4, 50, 5e5)
    assert Readout(days=30, homicides=(8, 9), crimes=(1, 1), cost_usd=1.0).cost_per_homicide_averted is None
    assert [money(x) for x in (2.5e6, 450e3, 900, -1.2e6)] == ["$2.5M", "$450k", "$900", "-$1.2M"]


# ---- figures and exports ---------------------------------------------------------------------------


def test_charts_show_totals_so_far_and_levels(youth: Comparison) -> None:
    v = youth.view()
    months, homicides, label = chart_series(v, "homicides")
    assert homicides[:, -1].tolist() == list(v.readout.homicides) and label == "people, so far"
    assert months[-1] == pytest.approx(90 / (365 / 12))
    _, cost, label = chart_series(v, "cost_usd")
    assert cost[1, -1] == pytest.approx(v.readout.cost_usd / 1e6) and "USD million" in label
    _, trust, _ = chart_series(v, "trust")
    np.testing.assert_array_equal(trust, v.series["trust"])
    fig = charts_figure(v)
    assert [ax.get_title(loc="left") for ax in fig.axes] == [
        "Homicides", "Robberies", "Extortions", "Fear of crime", "Trust in police", "Programme cost"]
    assert all(ax.get_xlabel() == "months" and ax.get_ylabel() for ax in fig.axes)
    assert all(len(ax.get_lines()) == 2 for ax in fig.axes)  # both sides on each axis


def test_maps_share_one_colour_scale(youth: Comparison) -> None:
    v = youth.view()
    scales = [map_figure(v, side, "homicide_rate").axes[0].collections[-1].norm for side in (0, 1)]
    assert (scales[0].vmin, scales[0].vmax) == (scales[1].vmin, scales[1].vmax)
    trust = map_figure(v, 1, "trust").axes[0].collections[-1].norm
    assert (trust.vmin, trust.vmax) == (0.0, 1.0)


def test_png_exports_are_images(youth: Comparison, tmp_path: Path) -> None:
    for path in (save_charts_png(youth, tmp_path / "charts.png"), save_maps_png(youth, tmp_path / "maps.png")):
        with Image.open(path) as im:
            assert im.format == "PNG" and im.size[0] > 1000 and im.size[1] > 500


def test_gif_has_the_frames_asked_for(youth: Comparison, tmp_path: Path) -> None:
    assert frame_steps(90, 5).tolist() == [18, 36, 54, 72, 90]
    assert frame_steps(3, 10).tolist() == [1, 2, 3] and frame_steps(0, 10).size == 0
    path = save_gif(youth, tmp_path / "run.gif", frames=5, dpi=40)
    with Image.open(path) as im:
        assert im.format == "GIF" and im.n_frames == 5 and im.is_animated
    fresh = Comparison(small(()))
    with pytest.raises(ValueError, match="nothing to animate"):
        save_gif(fresh, tmp_path / "none.gif")


# ---- the command -----------------------------------------------------------------------------------


def test_dashboard_command_rejects_bad_input(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert main(["dashboard", "--scenario", "nope.yaml", "--scenarios", str(SCENARIOS)]) == 2
    assert "--scenario: nope.yaml: expected a file in" in capsys.readouterr().err
    assert main(["dashboard", "--scenarios", str(tmp_path / "missing")]) == 2
    assert "no such folder" in capsys.readouterr().err
    with pytest.raises(SystemExit) as stop:
        main(["dashboard", "--port", "70000"])
    assert stop.value.code == 2 and "expected a port in 1..65535" in capsys.readouterr().err


# ---- the page in a browser -------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_for_server(port: int, server: subprocess.Popen, timeout: float = 40.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise AssertionError(f"the dashboard exited with code {server.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.2)
    raise AssertionError("the dashboard did not start listening")


DAY_AT_LEAST = """([side, day]) => {
    const m = (document.querySelector('.ss-day-' + side)?.innerText || '').match(/Day ([\\d,]+)/);
    return m !== null && parseInt(m[1].replace(/,/g, '')) >= day;
}"""


DAYS = r"""() => [0, 1].map(side => parseInt(
    document.querySelector('.ss-day-' + side).innerText.match(/Day ([\d,]+)/)[1].replace(/,/g, '')))"""


def _days(page) -> tuple[int, int]:  # noqa: ANN001 - a Playwright page
    """The day each side shows, read in one go (one page update cannot fall between them)."""
    left, right = page.evaluate(DAYS)
    return int(left), int(right)


@pytest.mark.slow
@pytest.mark.skipif(not Path(CHROMIUM).exists() and not os.environ.get("CI"),
                    reason="needs Debian's chromium (apt-get install chromium); CI installs it and never skips")
def test_page_runs_both_cities_side_by_side(tmp_path: Path) -> None:
    from playwright.sync_api import sync_playwright
    port = _free_port()
    log = (tmp_path / "server.log").open("w")
    server = subprocess.Popen(
        [sys.executable, "-m", "model", "dashboard", "--port", str(port), "--size", "small",
         "--scenarios", str(SCENARIOS)],
        cwd=tmp_path, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        env={**os.environ, "MPLBACKEND": "Agg"},
    )
    try:
        _wait_for_server(port, server)
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=[
                "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync"])
            try:
                page = browser.new_page(viewport={"width": 1600, "height": 1000})
                page.set_default_timeout(30_000)
                page.goto(f"http://127.0.0.1:{port}/")
                page.locator(".ss-day-1").wait_for()
                assert page.locator(".ss-day-0").inner_text().startswith("Day 0 of 1,095")
                assert "Programmes: none switched on" in page.inner_text("body")

                page.get_by_text("Youth programs", exact=True).click()  # switch a programme on: rebuilt
                page.get_by_text("Programmes: Youth programs").wait_for()
                charts = page.locator(".ss-charts img, img.ss-charts").first
                before = charts.get_attribute("src")

                page.get_by_role("button", name="Step +2 weeks").click()
                page.wait_for_function(DAY_AT_LEAST, arg=[1, 14])
                page.get_by_role("button", name="Step +2 weeks").click()
                page.wait_for_function(DAY_AT_LEAST, arg=[1, 28])
                assert _days(page) == (28, 28)

                page.get_by_role("button", name="Play").click()
                page.wait_for_function(DAY_AT_LEAST, arg=[1, 84])
                page.get_by_role("button", name="Pause").click()
                page.get_by_role("button", name="Play").wait_for()  # paused: the button says Play again
                left, right = _days(page)
                assert left == right >= 84
                assert charts.get_attribute("src") != before  # the charts were redrawn
                body = page.inner_text("body")
                assert "Without programmes" in body and "With programmes" in body
                assert "homicides averted so far" in body and "programme cost so far" in body
                page.screenshot(path=str(tmp_path / "dashboard.png"), full_page=True)
            finally:
                browser.close()
        with Image.open(tmp_path / "dashboard.png") as shot:
            assert shot.format == "PNG" and shot.size[0] >= 1600
    finally:
        os.killpg(server.pid, signal.SIGTERM)  # the server and nothing else: its own session
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()
        log.close()

