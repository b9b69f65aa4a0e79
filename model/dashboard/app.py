"""The Solara page: switches on the left; the two cities, the readout and the charts on the right.

Serve it with ``safestreets dashboard`` (or ``solara run model.dashboard.app``). The page only
presents: :class:`~model.dashboard.comparison.Comparison` builds and steps the two models, in
worker threads, a few days at a time, so the page answers clicks while the cities run.

- Changes of settings go to a :class:`~model.dashboard.builder.Builder`: a burst of clicks builds
  once, for the last settings, and a build they overtake stops; meanwhile the old cities stay on the
  page, greyed, under a "building" note with the build's progress.
- Every switch and slider keeps its widget for the life of the page (see :func:`ProgrammeSwitch`),
  so no click or slider move the browser still holds is lost; a slider is there (greyed) even while
  its switch is off, so turning a switch on or off moves no other switch.
- While playing, only the board redraws, and it redraws only what moved: the maps and charts are
  :class:`~model.dashboard.figures.LiveMaps` and :class:`~model.dashboard.figures.LiveCharts`,
  kept from frame to frame.
- The GIF is drawn in a worker thread with a progress bar, then offered for download.
"""

# ruff: noqa: N802 - Solara components are named like classes (Page, Board...), as Solara expects

from __future__ import annotations

import os
import threading
import time

import solara

from model.dashboard.builder import Builder
from model.dashboard.choices import (
    SCENARIO_ENV,
    SIZE_ENV,
    SIZES,
    Settings,
    default_scenarios_dir,
    programme_label,
    programme_names,
    programmes_in_file,
    scenario_files,
)
from model.dashboard.comparison import MAP_OUTCOMES, SIDES, Comparison, View
from model.dashboard.export import gif_bytes
from model.dashboard.figures import SIDE_COLOURS, LiveCharts, LiveMaps, charts_figure, figure_png, map_label, money
from model.errors import InputError

__all__ = ["Page"]

SPEEDS = {1: "1 day", 7: "1 week", 14: "2 weeks", 30: "1 month", 91: "3 months"}
PAUSE_SECONDS = 0.03  # while playing, the pause between one frame and the next (room for clicks)
PROGRESS_SECONDS = 0.2  # the GIF's progress bar moves at most this often

CSS = """
.ss-big { display: block; font-size: 2.6rem; font-weight: 700; line-height: 1.15; }
.ss-label { display: block; font-size: 1.1rem; color: #444; }
.ss-day { display: block; font-size: 1.7rem; font-weight: 600; }
.ss-side { display: block; font-size: 1.4rem; font-weight: 700; }
.ss-note { display: block; font-size: 1rem; color: #444; }
.v-btn.ss-control { font-size: 1.1rem; min-width: 7rem; }
.ss-charts { display: grid; grid-template-columns: repeat(3, minmax(0, 1fr)); gap: 4px 12px; }
.ss-stale { opacity: 0.45; pointer-events: none; }
.ss-legend { font-size: 1.15rem; }
.ss-legend span { display: inline-block; width: 2.2rem; height: 0.3rem; margin: 0 0.4rem 0.25rem 1rem;
                  vertical-align: middle; }
"""


def _initial_scenario() -> str:
    files = scenario_files()
    wanted = os.environ.get(SCENARIO_ENV, "baseline.yaml")
    return wanted if wanted in files else (files[0] if files else wanted)


def _day_text(view: View) -> str:
    total = view.total_steps * 365.0 / view.steps_per_year
    return f"Day {view.days:,.0f} of {total:,.0f}"


@solara.component
def BigNumber(value: str, label: str, colour: str = "#222") -> None:
    with solara.Card(margin=0, style={"min-width": "13rem", "flex": "1"}):
        solara.Text(value, classes=["ss-big"], style={"color": colour})
        solara.Text(label, classes=["ss-label"])


@solara.component
def Readouts(view: View) -> None:
    r = view.readout
    averted = r.homicides_averted
    per = r.cost_per_homicide_averted
    with solara.Row(gap="12px", style={"flex-wrap": "wrap"}):
        BigNumber(f"{r.homicides[0]:,.0f}", "homicides so far, without", SIDE_COLOURS[0])
        BigNumber(f"{r.homicides[1]:,.0f}", "homicides so far, with", SIDE_COLOURS[1])
        BigNumber(f"{averted:,.0f}", "homicides averted so far",
                  "#2e7d32" if averted > 0 else "#c62828" if averted < 0 else "#222")
        BigNumber(money(r.cost_usd), "programme cost so far")
        BigNumber(money(per) if per is not None else "-", "cost per homicide averted")


@solara.component
def SideMap(view: View, side: int, png: bytes) -> None:
    names = ", ".join(view.programmes) if view.programmes else "none switched on"
    with solara.Card(margin=0, style={"flex": "1", "min-width": "22rem"}):
        solara.Text(SIDES[side], classes=["ss-side"], style={"color": SIDE_COLOURS[side]})
        solara.Text(_day_text(view), classes=["ss-day", f"ss-day-{side}"])
        solara.Text(f"Programmes: {names}" if side else "Programmes: none", classes=["ss-note"])
        solara.Image(png, width="100%", classes=[f"ss-map-{side}"])


@solara.component
def Choice(label: str, options: dict, value: solara.Reactive, disabled: bool = False) -> None:
    """A drop-down that shows ``options``' labels and sets ``value`` to the chosen key."""
    keys = {text: key for key, text in options.items()}
    solara.Select(label, values=list(keys), value=options[value.value], on_value=lambda text: value.set(keys[text]),
                  disabled=disabled)


@solara.component
def ProgrammeSwitch(name: str, switches: solara.Reactive[dict[str, float]]) -> None:
    """One programme's switch and, under it, its intensity slider: always there, greyed while the switch
    is off and showing the intensity the programme comes back at.

    The slider keeps its place on and off, so turning a switch on or off moves no other switch (a
    slider that appeared under its switch pushed every switch below it down, and a trainer clicking
    quickly down the list hit the wrong one).

    Both widgets live as long as the page: the switch is always the first child of one column and the
    slider the second. A widget the page replaces loses what the browser still held for it, and the
    browser sends a widget's next change only once the server has answered its last: so when the switch
    was the component's only element and became a column's child once its slider appeared, a second
    click that reached the old switch was lost, and so was a slider move still held when the switch went
    off and took its slider with it. Both handlers read the switches as they are when the change
    arrives, never as they were drawn: a slider move that lands after the switch went off is kept for
    when it is back on, and does not turn it on.
    """
    on = name in switches.value
    last = solara.use_ref(1.0)  # the slider's newest intensity, kept while the switch is off
    if on:
        last.current = switches.value[name]
    intensity = last.current

    def toggle(value: bool) -> None:
        chosen = dict(switches.value)
        if value:
            chosen.setdefault(name, last.current)
        else:
            chosen.pop(name, None)
        switches.set(chosen)

    def dose(value: float) -> None:
        last.current = float(value)
        if name in switches.value:  # a move that lands after the switch went off is kept for when it is back on
            switches.set({**switches.value, name: float(value)})

    with solara.Column(gap="0px", classes=["ss-programme", f"ss-programme-{name}"]):
        solara.Switch(label=programme_label(name), value=on, on_value=toggle)
        solara.SliderFloat(f"intensity {intensity:.1f}", value=intensity, min=0.0, max=3.0, step=0.1, on_value=dose,
                           disabled=not on)


def _legend_html() -> str:
    return "".join(f'<span style="background:{SIDE_COLOURS[side]}"></span>{SIDES[side]}' for side in (0, 1))


@solara.component
def GifExport(comparison: Comparison, colour_by: str, step: int) -> None:
    """A button that draws the GIF (of the run up to now: ``step``) in a worker thread, a progress bar
    meanwhile, then the file to save."""
    asked = solara.use_reactive(None)  # (request number, colour): what to draw, None before the first click
    progress = solara.use_reactive((0, 0))

    def make() -> tuple[bytes, float] | None:
        if asked.value is None:
            return None
        _, name = asked.value
        last = [0.0]

        def report(done: int, total: int) -> None:
            now = time.monotonic()
            if done == total or now - last[0] >= PROGRESS_SECONDS:
                last[0] = now
                progress.set((done, total))

        days = comparison.view().days
        return gif_bytes(comparison, name=name, progress=report), days

    result = solara.use_thread(make, dependencies=[asked.value, comparison], intrusive_cancel=False)
    running = asked.value is not None and result.state in (solara.ResultState.STARTING, solara.ResultState.RUNNING,
                                                             solara.ResultState.WAITING)
    ready = asked.value is not None and result.state == solara.ResultState.FINISHED and result.value is not None

    def ask() -> None:
        progress.set((0, 0))
        asked.set(((asked.value or (0,))[0] + 1, colour_by))

    solara.Button("Drawing the GIF..." if running else "Make an animation (GIF)", icon_name="mdi-movie-open",
                  on_click=ask, disabled=running or step == 0, classes=["ss-make-gif"])
    if running:
        done, total = progress.value
        with solara.Column(gap="2px", style={"min-width": "14rem"}):
            solara.ProgressLinear(100.0 * done / total if total else True)
            solara.Text(f"frame {done} of {total}" if total else "starting...", classes=["ss-note", "ss-gif-progress"])
    elif ready:
        data, days = result.value
        solara.FileDownload(data, filename="safestreets.gif", label=f"Save the GIF (to day {days:,.0f})",
                            mime_type="image/gif")
    elif result.state == solara.ResultState.ERROR and result.error is not None:
        solara.Error(f"The GIF could not be drawn: {result.error}")


@solara.component
def BuildNote(ticket: int, progress: solara.Reactive[tuple[int, float]]) -> None:
    """The note shown while the pair for ``ticket`` is built, with how far the two cities' spin-up has come.

    Only this component reads ``progress``: the builder's reports redraw the bar, nothing else."""
    reported, share = progress.value
    with solara.Column(gap="2px", classes=["ss-building"]):
        solara.Info("Building the two cities for these settings (each first lives through a year of spin-up)...")
        solara.ProgressLinear(100.0 * share if reported == ticket else True)


@solara.component
def Board(comparison: Comparison, tick: solara.Reactive[int], colour_by: str) -> None:
    """The two cities, the readout, the charts and the exports, as they stand now.

    Only this component reads ``tick``: while playing, the sidebar and the buttons are not redrawn.
    The figures are kept per pair of cities (the maps also per colouring) and only updated."""
    step = tick.value
    view = solara.use_memo(comparison.view, dependencies=[comparison, step])
    maps = solara.use_memo(lambda: LiveMaps(view, colour_by), dependencies=[comparison, colour_by])
    charts = solara.use_memo(lambda: LiveCharts(view), dependencies=[comparison])
    map_pngs = solara.use_memo(lambda: maps.update(view), dependencies=[maps, view])
    chart_pngs = solara.use_memo(lambda: charts.update(view), dependencies=[charts, view])
    latest = solara.use_ref(view)
    latest.current = view
    # one download function per pair, reading the newest view: a new function every frame would reset the button
    charts_png = solara.use_memo(lambda: lambda: figure_png(charts_figure(latest.current), dpi=120),
                                 dependencies=[comparison])
    Readouts(view)
    with solara.Row(gap="12px", style={"flex-wrap": "wrap", "align-items": "stretch"}):
        SideMap(view, 0, map_pngs[0])
        SideMap(view, 1, map_pngs[1])
    with solara.Card(margin=0):
        solara.Text("City outcomes, both sides", classes=["ss-side"])
        solara.HTML(unsafe_innerHTML=_legend_html(), classes=["ss-legend"])
        with solara.Div(classes=["ss-charts"]):
            for i, png in enumerate(chart_pngs):
                solara.Image(png, width="100%", classes=["ss-chart", f"ss-chart-{i}"])
    solara.Text("One run on each side, with the same seed: the gap is the programme plus chance. For effect "
                "sizes with confidence intervals, use `safestreets compare`.", classes=["ss-note"])
    with solara.Row(gap="10px", style={"align-items": "center", "flex-wrap": "wrap"}):
        solara.FileDownload(charts_png, filename="safestreets-charts.png", label="Charts as PNG",
                            mime_type="image/png")
        GifExport(comparison, colour_by, view.step).key(f"gif-{id(comparison)}")  # a new pair, a new button


@solara.component
def Page() -> None:
    folder = solara.use_memo(default_scenarios_dir, dependencies=[])
    first = solara.use_memo(_initial_scenario, dependencies=[])
    scenario = solara.use_reactive(first)
    size = solara.use_reactive(os.environ.get(SIZE_ENV) if os.environ.get(SIZE_ENV) in SIZES else "file")
    seed = solara.use_reactive(0)
    switches = solara.use_reactive(solara.use_memo(lambda: programmes_in_file(first, folder), dependencies=[]))
    colour_by = solara.use_reactive("homicide_rate")
    speed = solara.use_reactive(14)
    playing = solara.use_reactive(False)
    generation = solara.use_reactive(0)  # bumped by Reset: build the pair again
    tick = solara.use_reactive(0)  # bumped when the cities have moved on: redraws the board (only)
    ended = solara.use_reactive(0)  # bumped when a pair reaches its horizon: redraws the buttons
    built = solara.use_reactive(None)  # (ticket, Comparison or the exception that stopped its build)

    settings = Settings(scenario.value, size.value, seed.value, tuple(sorted(switches.value.items())), str(folder))

    def deliver(ticket: int, _settings: Settings, result: object) -> None:  # in the builder's thread
        playing.set(False)
        built.set((ticket, result))

    def make_builder() -> Builder:
        shown = [0, 0.0]  # the ticket and the time of the last progress shown

        def report(ticket: int, done: int, total: int) -> None:  # in the builder's thread
            now = time.monotonic()
            if ticket != shown[0] or done == total or now - shown[1] >= PROGRESS_SECONDS:
                shown[:] = [ticket, now]
                build_progress.set((ticket, done / total if total else 1.0))

        return Builder(deliver, progress=report)

    build_progress = solara.use_reactive((0, 0.0))  # (ticket, share of its spin-up done): read by BuildNote only
    builder = solara.use_memo(make_builder, dependencies=[])
    solara.use_effect(lambda: builder.close, dependencies=[])  # the page closed: stop the worker
    # every change of settings (and Reset) asks for a pair; the builder waits for the clicks to settle
    wanted = solara.use_memo(lambda: builder.request(settings), dependencies=[settings, generation.value])
    ticket, result = built.value if built.value is not None else (0, None)
    building = ticket != wanted
    comparison: Comparison | None = result if isinstance(result, Comparison) else None
    _ = ended.value  # read here, so the buttons are redrawn when the pair reaches its horizon
    finished = comparison is not None and comparison.finished
    live = playing.value and comparison is not None and not building and not finished

    def play(cancel: threading.Event) -> None:
        """Step ``speed`` days, redraw, and again, until paused or the horizon is reached (in a worker thread)."""
        if not live:
            return
        while not cancel.is_set() and not comparison.finished:
            comparison.step(speed.value)
            tick.set(tick.value + 1)  # redraws the board (in this thread), then the cities move on
            cancel.wait(PAUSE_SECONDS)
        if comparison.finished:
            playing.set(False)
            ended.set(ended.value + 1)

    solara.use_thread(play, dependencies=[live, comparison], intrusive_cancel=False)

    def step_once() -> None:
        if comparison is not None and not building:
            comparison.step(speed.value)
            tick.set(tick.value + 1)
            if comparison.finished:
                ended.set(ended.value + 1)

    def choose_scenario(name: str) -> None:
        scenario.set(name)
        switches.set(programmes_in_file(name, folder))

    solara.Style(CSS)
    solara.Title("Safe Streets - trainer dashboard")
    with solara.Sidebar():
        solara.Markdown("### The city")
        solara.Select("Scenario file", values=scenario_files(folder), value=scenario.value, on_value=choose_scenario)
        Choice("City size", {key: s.label for key, s in SIZES.items()}, size)
        solara.InputInt("Seed (the same on both sides)", value=seed)
        solara.Markdown("### Programmes on the *with* side")
        for name in programme_names():
            ProgrammeSwitch(name, switches)
        solara.Markdown("### Display")
        Choice("Colour the maps by", {name: map_label(name) for name in MAP_OUTCOMES}, colour_by)
        Choice("Speed: each update moves", SPEEDS, speed)

    with solara.Column(gap="14px", style={"padding": "8px"}):
        solara.Markdown("## The same city without and with the programmes")
        idle = comparison is None or building
        with solara.Row(gap="10px", style={"align-items": "center"}):
            solara.Button("Pause" if playing.value else "Play", icon_name="mdi-pause" if playing.value else "mdi-play",
                          color="primary", classes=["ss-control"], on_click=lambda: playing.set(not playing.value),
                          disabled=idle or finished)
            solara.Button(f"Step +{SPEEDS[speed.value]}", icon_name="mdi-step-forward", classes=["ss-control"],
                          on_click=step_once, disabled=idle or playing.value or finished)
            solara.Button("Reset", icon_name="mdi-restart", classes=["ss-control"],
                          on_click=lambda: generation.set(generation.value + 1))
        # one slot for the note, there or not: the board after it keeps its place among the column's
        # children, so its widgets (and figures) are kept rather than made anew when a build starts or ends
        with solara.Column(gap="2px"):
            if building:
                BuildNote(wanted, build_progress)
            elif isinstance(result, Exception):
                solara.Error(str(result) if isinstance(result, InputError)
                             else f"The cities could not be built: {result}")
        if comparison is not None:
            with solara.Column(gap="14px", classes=["ss-stale"] if building else []):
                Board(comparison, tick, colour_by.value)
