"""The trainer dashboard: the pair of cities it builds and steps, its figures and exports, its
command, and the page itself in a real browser (Debian's chromium driven by Playwright).
"""

from __future__ import annotations

import io
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import mesa
import numpy as np
import pytest
from PIL import Image

from model.cli import main
from model.dashboard import CHART_OUTCOMES, MAP_OUTCOMES, Comparison, Readout, Settings, build_pair
from model.dashboard.builder import Builder
from model.dashboard.comparison import BuildCancelled
from model.dashboard.export import frame_steps, gif_bytes, save_charts_png, save_gif, save_maps_png
from model.dashboard.figures import (
    FINE_STEPS,
    LiveCharts,
    LiveMaps,
    chart_limits,
    chart_series,
    charts_figure,
    map_figure,
    money,
    nice_ceiling,
)
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
    assert c.view().step == c.total_steps and [int(m.t) for m in c.models] == [c.total_steps, c.total_steps]


def test_readout_arithmetic() -> None:
    r = Readout(homicides=(12, 8), crimes=(900, 850), cost_usd=2e6)
    assert (r.homicides_averted, r.crimes_averted, r.cost_per_homicide_averted) == (4, 50, 5e5)
    assert Readout(homicides=(8, 9), crimes=(1, 1), cost_usd=1.0).cost_per_homicide_averted is None
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


def test_gif_reports_its_progress(youth: Comparison) -> None:
    seen: list[tuple[int, int]] = []
    data = gif_bytes(youth, name="trust", frames=6, dpi=40, progress=lambda done, total: seen.append((done, total)))
    assert [done for done, _ in seen[:6]] == [1, 2, 3, 4, 5, 6] and seen[-1] == (6, 6)
    assert {total for _, total in seen} == {6}
    with Image.open(io.BytesIO(data)) as im:
        assert im.format == "GIF" and im.n_frames == 6 and im.size == (480, 384)


# ---- live figures: kept between frames, only what moved redrawn -------------------------------------


def _png_size(data: bytes) -> tuple[int, int]:
    with Image.open(io.BytesIO(data)) as im:
        assert im.format == "PNG"
        return im.size


def test_round_scales() -> None:
    assert [nice_ceiling(x) for x in (0, -3, 0.7, 1, 1.2, 3, 7, 12, 480, float("nan"))] == [
        1, 1, 1, 1, 2, 5, 10, 20, 500, 1]
    assert [nice_ceiling(x, FINE_STEPS) for x in (1.2, 2.5, 7, 1100)] == [1.5, 3, 8, 1500]
    counts = np.array([[0.0, 3, 9], [0.0, 2, 8]])
    assert chart_limits(counts, "homicides") == (0.0, 20.0)  # 9 * 1.12 rounds up to 20
    assert chart_limits(counts[:, :0], "homicides") == (0.0, 1.0)
    assert chart_limits(np.array([[0.42, 0.47], [0.44, 0.51]]), "trust") == (0.3, 0.6)
    assert chart_limits(np.array([[0.01, 0.99]]), "fear") == (0.0, 1.0)


def test_live_figures_are_kept_and_only_updated(youth: Comparison) -> None:
    maps, charts = LiveMaps(youth.view(10), "homicide_rate"), LiveCharts(youth.view(10))
    figures = (*maps.figures, *charts.figures)
    artists = [chart.lines for chart in charts.charts]
    frames = range(10, 91, 8)
    for step in frames:
        view = youth.view(step)
        left, right = maps.update(view)
        pngs = charts.update(view)
        assert _png_size(left) == _png_size(right) == (560, 496)
        assert len(pngs) == len(CHART_OUTCOMES) and all(_png_size(png) == (400, 272) for png in pngs)
    assert (*maps.figures, *charts.figures) == figures  # the same figure objects, every frame
    assert [chart.lines for chart in charts.charts] == artists
    for chart in charts.charts:
        assert chart.frames == len(frames) and 1 <= chart.redraws < len(frames)  # most frames were blits
        months, values, _ = chart_series(youth.view(90), chart.name)
        np.testing.assert_array_equal(chart.lines[1].get_ydata(), values[1])  # the lines hold the last view
        assert tuple(chart.ax.get_ylim()) == chart_limits(values, chart.name)
    view = youth.view(90)
    np.testing.assert_array_equal(maps._points[1].get_array(), view.hood["homicide_rate"][1])
    assert maps.norm.vmin == 0 and maps.norm.vmax >= 1
    assert maps._note.get_visible() == bool(view.targeted.any())
    trust = LiveMaps(youth.view(90), "trust")
    assert (trust.norm.vmin, trust.norm.vmax) == (0.0, 1.0)


def test_the_live_charts_match_the_exported_ones(youth: Comparison) -> None:
    view = youth.view()
    live = LiveCharts(view)
    live.update(view)
    assert [chart.ax.get_title(loc="left") for chart in live.charts] == [
        ax.get_title(loc="left") for ax in charts_figure(view).axes]
    assert all(chart.ax.get_xlabel() == "months" and chart.ax.get_ylabel() for chart in live.charts)


# ---- building: only the newest settings ------------------------------------------------------------


class _Recorder:
    """A stand-in for Comparison: records what it was asked to build; the first build can be held."""

    def __init__(self, hold_first: bool = False) -> None:
        self.started: list[int | None] = []
        self.release = threading.Event()
        if not hold_first:
            self.release.set()
        self.first_started = threading.Event()

    def __call__(self, settings: Settings, stop, progress) -> tuple[str, int | None]:  # noqa: ANN001 - Builder's
        self.started.append(settings.seed)
        if len(self.started) == 1:
            self.first_started.set()
            assert self.release.wait(30)
        return "pair", settings.seed


def _collect(builder_args: dict) -> tuple[Builder, list, threading.Event]:
    delivered: list = []
    done = threading.Event()

    def deliver(ticket: int, settings: Settings, result: object) -> None:
        delivered.append((ticket, settings.seed, result))
        done.set()

    return Builder(deliver, **builder_args), delivered, done


def test_a_burst_of_changes_builds_only_the_last_settings() -> None:
    make = _Recorder()
    builder, delivered, done = _collect({"delay": 0.4, "make": make})
    try:
        tickets = [builder.request(small((), seed=seed)) for seed in range(6)]
        assert builder.busy and builder.latest == tickets[-1]
        assert done.wait(30)
        time.sleep(0.2)  # room for any stray build (there is none) to show up
        assert make.started == [5] and delivered == [(tickets[-1], 5, ("pair", 5))]
        assert not builder.busy
    finally:
        builder.close()


def test_changes_during_a_build_drop_it_and_build_the_newest_only() -> None:
    make = _Recorder(hold_first=True)
    builder, delivered, done = _collect({"delay": 0.0, "make": make})
    try:
        builder.request(small((), seed=1))
        assert make.first_started.wait(30)  # seed 1 is being built...
        tickets = [builder.request(small((), seed=seed)) for seed in (2, 3, 4)]  # ... when three more come
        make.release.set()
        assert done.wait(30)
        time.sleep(0.2)
        assert make.started == [1, 4]  # 2 and 3 were overtaken before they began
        assert delivered == [(tickets[-1], 4, ("pair", 4))]  # 1 was built but never shown
    finally:
        builder.close()


def test_bad_settings_reach_the_page_as_errors() -> None:
    builder, delivered, done = _collect({"delay": 0.0})
    try:
        builder.request(Settings("baseline.yaml", size="huge", folder=str(SCENARIOS)))
        assert done.wait(30)
        [(_, _, error)] = delivered
        assert isinstance(error, InputError) and "size" in str(error)
    finally:
        builder.close()


def test_a_build_is_asked_before_each_city_and_each_spin_up_step() -> None:
    asked, done = [], []

    def stop() -> bool:
        asked.append(True)
        return False

    c = Comparison(small(()), stop=stop, progress=lambda steps, total: done.append((steps, total)))
    spin_up = _spin_up_steps()
    assert done == [(steps, 2 * spin_up) for steps in range(1, 2 * spin_up + 1)]
    assert len(asked) == 2 + 2 * spin_up  # before each city, and before each of their spin-up steps
    assert c.step(2) == 2
    c.release()


@pytest.fixture()
def released(monkeypatch: pytest.MonkeyPatch) -> list[SecurityModel]:
    """The models released from now on (SecurityModel.release still does its work)."""
    out: list[SecurityModel] = []
    original = SecurityModel.release

    def release(self: SecurityModel) -> None:
        out.append(self)
        original(self)

    monkeypatch.setattr(SecurityModel, "release", release)
    return out


def _spin_up_steps() -> int:
    """How many spin-up steps each town of :func:`small` lives through before day 0."""
    town = build_pair(small(()))[0]
    return int(round(town.spin_up_years * town.steps_per_year))


@pytest.mark.parametrize("city", [1, 2])
def test_a_build_overtaken_during_spin_up_stops_within_a_step(city: int, released: list[SecurityModel]) -> None:
    """The settings move on while a city lives through its spin-up: the build stops before the next
    step (not at the end of the city's year), and every city it had begun is released."""
    spin_up = _spin_up_steps()
    assert spin_up > 100
    overtaken_after = (city - 1) * spin_up + 10  # ten steps into the first or the second city's spin-up
    done: list[int] = []

    def stop() -> bool:
        return len(done) >= overtaken_after  # overtaken once this many spin-up steps are done

    with pytest.raises(BuildCancelled):
        Comparison(small(()), stop=stop, progress=lambda steps, total: done.append(steps))
    assert done == list(range(1, overtaken_after + 1))  # not one step more
    assert len(released) == city  # the half-built one, and the whole first one if there was one
    assert not any(model in mesa.Agent._ids for model in released)


def test_the_builder_stops_an_overtaken_build_and_builds_the_newest(released: list[SecurityModel]) -> None:
    """A real build overtaken in its spin-up: it stops at once (counted in steps), is released, never
    delivered; the newest settings are built and delivered."""
    steps: dict[int, list[int]] = {}
    builder: Builder | None = None
    tickets: list[int] = []

    def progress(ticket: int, done: int, total: int) -> None:
        steps.setdefault(ticket, []).append(done)
        if ticket == tickets[0] and done == 5:  # five steps into the first city's year, the settings change
            tickets.append(builder.request(small((("youth_programs", 1.0),), seed=2)))

    builder, delivered, arrived = _collect({"delay": 0.0, "progress": progress})
    try:
        tickets.append(builder.request(small((), seed=1)))
        assert arrived.wait(120)
        [(ticket, seed, pair)] = delivered
        assert (ticket, seed) == (tickets[1], 2) and pair.programmes == ("Youth programs",)
        assert steps[tickets[0]] == [1, 2, 3, 4, 5]  # the overtaken build ran no step after the change
        assert steps[tickets[1]][-1] == 2 * _spin_up_steps()  # the newest ran to the end
        assert len(released) == 1 and released[0] not in pair.models  # the overtaken half-built city
        assert not builder.busy
    finally:
        builder.close()
    pair.release()


# ---- the switches ------------------------------------------------------------------------------------


def test_a_switch_keeps_its_widgets_through_clicks() -> None:
    """The switch and its slider are the same widgets on and off: a click or slider move the browser
    sends to a widget the page has replaced is lost (how a quick double click lost its second click)."""
    import ipyvuetify as v
    import solara

    from model.dashboard.app import ProgrammeSwitch

    switches = solara.reactive({"rule_of_law": 1.0})
    _, rc = solara.render(ProgrammeSwitch("youth_programs", switches), handle_error=False)
    try:
        switch, slider = rc.find(v.Switch).widget, rc.find(v.Slider).widget
        switch.v_model = True
        assert switches.value == {"rule_of_law": 1.0, "youth_programs": 1.0}
        slider.v_model = 1.5
        assert switches.value["youth_programs"] == 1.5
        switch.v_model = False
        assert switches.value == {"rule_of_law": 1.0}
        slider.v_model = 2.0  # a move that lands after the switch went off: kept, but does not switch it on
        assert switches.value == {"rule_of_law": 1.0}
        switch.v_model = True  # back on, at the slider's newest intensity
        assert switches.value == {"rule_of_law": 1.0, "youth_programs": 2.0}
        assert (rc.find(v.Switch).widget, rc.find(v.Slider).widget) == (switch, slider)
    finally:
        rc.close()


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

BROWSER_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync"]
needs_chromium = pytest.mark.skipif(
    not Path(CHROMIUM).exists() and not os.environ.get("CI"),
    reason="needs Debian's chromium (apt-get install chromium); CI installs it and never skips")


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


@pytest.fixture(scope="module")
def dashboard(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[object, str]]:
    """A dashboard server (town size) and a headless chromium, shared by the browser tests: each test
    opens its own page, and so its own session with its own cities."""
    from playwright.sync_api import sync_playwright
    folder = tmp_path_factory.mktemp("dashboard")
    port = _free_port()
    log = (folder / "server.log").open("w")
    server = subprocess.Popen(
        [sys.executable, "-m", "model", "dashboard", "--port", str(port), "--size", "small",
         "--scenarios", str(SCENARIOS)],
        cwd=folder, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        env={**os.environ, "MPLBACKEND": "Agg"},
    )
    try:
        _wait_for_server(port, server)
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=BROWSER_ARGS)
            try:
                yield browser, f"http://127.0.0.1:{port}/"
            finally:
                browser.close()
    finally:
        os.killpg(server.pid, signal.SIGTERM)  # the server and nothing else: its own session
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()
        log.close()


def _open(dashboard: tuple[object, str]):  # noqa: ANN202 - a Playwright page
    browser, url = dashboard
    page = browser.new_page(viewport={"width": 1600, "height": 1000})
    page.set_default_timeout(30_000)
    page.goto(url)
    page.locator(".ss-day-1").wait_for()
    return page


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
@needs_chromium
def test_page_runs_both_cities_side_by_side(dashboard: tuple[object, str], tmp_path: Path) -> None:
    page = _open(dashboard)
    try:
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
        # a frame sent just before the pause can still be landing, one side's text at a time
        page.wait_for_function(f"() => {{ const [l, r] = ({DAYS})(); return l === r; }}")
        left, right = _days(page)
        assert left == right >= 84
        assert charts.get_attribute("src") != before  # the charts were redrawn
        body = page.inner_text("body")
        assert "Without programmes" in body and "With programmes" in body
        assert "homicides averted so far" in body and "programme cost so far" in body
        assert page.locator(".ss-charts img").count() == len(CHART_OUTCOMES)
        page.screenshot(path=str(tmp_path / "dashboard.png"), full_page=True)

        # the GIF: drawn in the background, then offered for download
        page.get_by_role("button", name="Make an animation (GIF)").click()
        save = page.get_by_role("button", name="Save the GIF")
        save.wait_for()
        with page.expect_download() as download:
            save.click()
        download.value.save_as(tmp_path / "page.gif")
        with Image.open(tmp_path / "page.gif") as gif:
            assert gif.format == "GIF" and gif.n_frames > 1

        # a burst of switches: the old cities stay, greyed, until the last settings are built
        for name in ("Rule of law", "Hotspot patrol", "Community policing"):
            page.get_by_text(name, exact=True).click()
        page.locator(".ss-building").wait_for()
        page.locator(".ss-stale .ss-day-1").wait_for()  # the old cities, greyed
        everything = "Programmes: Community policing, Hotspot patrol, Rule of law, Youth programs"
        page.get_by_text(everything).wait_for()
        page.locator(".ss-building").wait_for(state="detached")
        assert _days(page) == (0, 0) and page.locator(".ss-stale").count() == 0
        assert page.get_by_role("button", name="Play").is_enabled()
        body = page.inner_text("body").lower()  # buttons are written in capitals
        assert "make an animation (gif)" in body and "save the gif" not in body and "could not" not in body
    finally:
        page.close()
    with Image.open(tmp_path / "dashboard.png") as shot:
        assert shot.format == "PNG" and shot.size[0] >= 1600


# What the page shows, read in one go: each switch as the browser shows it, and the programmes the
# with side's cities were built with (its "Programmes:" note), whether a build is under way, the days.
PAGE_STATE = r"""() => {
    const switches = {};
    for (const box of document.querySelectorAll('.v-input--switch')) {
        switches[box.querySelector('label').innerText.trim()] =
            box.querySelector('input').getAttribute('aria-checked') === 'true';
    }
    const notes = [...document.querySelectorAll('.ss-note')].map(e => e.innerText.trim())
        .filter(t => t.startsWith('Programmes:'));
    const days = [0, 1].map(side => (document.querySelector('.ss-day-' + side)?.innerText || '')
        .match(/Day ([\d,]+)/)?.[1]);
    const sliders = {};  // the intensity the page holds for each switch that is on (its slider greyed when off)
    for (const box of document.querySelectorAll('.ss-programme')) {
        const slider = box.querySelector('.v-slider');
        if (slider !== null && slider.offsetParent !== null  // shown, and not greyed
                && !slider.closest('.v-input').classList.contains('v-input--is-disabled')) {
            const name = [...box.classList].find(c => c.startsWith('ss-programme-')).slice(13);
            sliders[name] = slider.closest('.v-input').querySelector('label').innerText.trim();
        }
    }
    return {switches, sliders, built: notes[notes.length - 1] ?? null, days,
            building: document.querySelector('.ss-building') !== null,
            stale: document.querySelector('.ss-stale') !== null};
}"""


def _built_note(on: dict[str, float]) -> str:
    """The with side's note for cities built with the programmes ``on`` (label -> intensity)."""
    if not on:
        return "Programmes: none switched on"
    return "Programmes: " + ", ".join(label if intensity == 1.0 else f"{label} (intensity {intensity:g})"
                                      for label, intensity in sorted(on.items(), key=lambda kv: kv[0].lower()))


def _settled(page, on: dict[str, float], timeout: float = 120.0) -> dict:  # noqa: ANN001 - a Playwright page
    """Wait until the page is still and shows exactly ``on`` (label -> intensity) switched on: the switches,
    the cities' note and a finished new build (day 0, nothing greyed). Fails with what the page shows."""
    want = {"built": _built_note(on), "on": sorted(on)}
    check = f"""() => {{
        const s = ({PAGE_STATE})();
        const on = Object.keys(s.switches).filter(k => s.switches[k]).sort();
        const want = {json.dumps(want)};
        return !s.building && !s.stale && s.days[0] === '0' && s.days[1] === '0' && s.built === want.built
            && JSON.stringify(on) === JSON.stringify(want.on.slice().sort());
    }}"""
    try:
        page.wait_for_function(check, timeout=timeout * 1000, polling=100)
    except Exception as err:  # noqa: BLE001 - a Playwright timeout: say what the page shows instead
        raise AssertionError(f"the page never showed {want}; it shows {page.evaluate(PAGE_STATE)}") from err
    return page.evaluate(PAGE_STATE)


@pytest.mark.slow
@needs_chromium
def test_bursts_of_clicks_leave_switches_and_cities_agreeing(dashboard: tuple[object, str]) -> None:
    """Quick double clicks on one switch and bursts over several: once the page is still, the switches,
    the settings the cities were built with and the programmes on the with side all agree, and they are
    the last clicks' settings (no click is lost)."""
    page = _open(dashboard)
    try:
        switch = {label: page.get_by_text(label, exact=True) for label in (
            "Youth programs", "Rule of law", "Hotspot patrol", "Community policing")}
        step = page.get_by_role("button", name="Step +2 weeks")
        step.click()
        page.wait_for_function(DAY_AT_LEAST, arg=[1, 14])  # a rebuild shows as day 0 again

        # the same switch twice in quick succession (on, off), and another once
        switch["Youth programs"].click()
        switch["Youth programs"].click()
        switch["Rule of law"].click()
        _settled(page, {"Rule of law": 1.0})

        step.click()
        page.wait_for_function(DAY_AT_LEAST, arg=[1, 14])
        # a double click (on, off) and three quick clicks (on, off, on) on another
        switch["Youth programs"].dblclick()
        for _ in range(3):
            switch["Hotspot patrol"].click()
        _settled(page, {"Rule of law": 1.0, "Hotspot patrol": 1.0})

        step.click()
        page.wait_for_function(DAY_AT_LEAST, arg=[1, 14])
        # several different switches quickly, two of them twice
        for label in ("Community policing", "Rule of law", "Youth programs", "Hotspot patrol", "Rule of law",
                      "Youth programs"):
            switch[label].click()
        _settled(page, {"Community policing": 1.0, "Rule of law": 1.0})

        step.click()
        page.wait_for_function(DAY_AT_LEAST, arg=[1, 14])
        # sliders moved key by key, then a switch clicked off and on again: it comes back at its intensity
        slider = {name: page.locator(f".ss-programme-{name} [role=slider]") for name in (
            "community_policing", "rule_of_law")}
        for _ in range(3):
            slider["community_policing"].press("ArrowRight")
        for _ in range(2):
            slider["rule_of_law"].press("ArrowLeft")
        switch["Rule of law"].dblclick()
        state = _settled(page, {"Community policing": 1.3, "Rule of law": 0.8})
        assert state["sliders"] == {"community_policing": "intensity 1.3", "rule_of_law": "intensity 0.8"}
    finally:
        page.close()


# Each switch's box as the browser lays it out (label -> [x, y, width, height], rounded to the pixel;
# x and y in the scrolled content, so a click that scrolls the sidebar moves nothing), and, for the one
# asked about, whether it is on and whether its slider can be moved.
SWITCH_BOXES = r"""(name) => {
    const boxes = {};
    let on = null, slider = null;
    for (const box of document.querySelectorAll('.ss-programme')) {
        const input = box.querySelector('.v-input--switch');
        const r = input.getBoundingClientRect();
        let x = r.x + window.scrollX, y = r.y + window.scrollY;
        for (let e = input.parentElement; e !== null; e = e.parentElement) {
            x += e.scrollLeft;
            y += e.scrollTop;
        }
        boxes[input.querySelector('label').innerText.trim()] = [x, y, r.width, r.height].map(Math.round);
        if (box.classList.contains('ss-programme-' + name)) {
            on = input.querySelector('input').getAttribute('aria-checked') === 'true';
            const s = box.querySelector('.v-slider');
            slider = s !== null && s.offsetParent !== null
                && !s.closest('.v-input').classList.contains('v-input--is-disabled');
        }
    }
    return {boxes, on, slider};
}"""


@pytest.mark.slow
@needs_chromium
def test_turning_a_switch_on_or_off_moves_no_other_switch(dashboard: tuple[object, str]) -> None:
    """A trainer clicking quickly down the list must hit the switch they aimed at: turning one on (its
    slider comes to life) or off moves no other switch, to the pixel."""
    page = _open(dashboard)
    try:
        page.wait_for_function(f"() => Object.keys(({SWITCH_BOXES})('').boxes).length >= 4")
        before = page.evaluate(SWITCH_BOXES, "")["boxes"]
        assert len(before) >= 4 and all(w > 0 and h > 0 for _, _, w, h in before.values())
        for name, label in (("youth_programs", "Youth programs"), ("hotspot_patrol", "Hotspot patrol")):
            for on in (True, False):
                page.get_by_text(label, exact=True).click()
                # the switch shows its new state, and its slider can be moved exactly while it is on
                page.wait_for_function(f"""(name) => {{ const s = ({SWITCH_BOXES})(name);
                    return s.on === {json.dumps(on)} && s.slider === {json.dumps(on)}; }}""", arg=name)
                after = page.evaluate(SWITCH_BOXES, name)["boxes"]
                moved = {other: (before[other], after[other]) for other in before
                         if other != label and after[other] != before[other]}
                assert not moved, f"turning {label} {'on' if on else 'off'} moved {moved}"
    finally:
        page.close()
