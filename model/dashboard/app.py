"""The Solara page: switches on the left; the two cities, the readout and the charts on the right.

Serve it with ``safestreets dashboard`` (or ``solara run model.dashboard.app``). The page only
presents: :class:`~model.dashboard.comparison.Comparison` builds and steps the two models, in a
worker thread, a few days at a time, so the page answers clicks while the cities run.
"""

# ruff: noqa: N802 - Solara components are named like classes (Page, Board...), as Solara expects

from __future__ import annotations

import os
import threading
import time

import numpy as np
import solara

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
from model.dashboard.figures import (
    SIDE_COLOURS,
    charts_figure,
    figure_png,
    map_figure,
    map_label,
    map_norm,
    money,
)
from model.errors import InputError

__all__ = ["Page"]

SPEEDS = {1: "1 day", 7: "1 week", 14: "2 weeks", 30: "1 month", 91: "3 months"}
PAUSE_SECONDS = 0.05  # while playing, the pause between one frame and the next

CSS = """
.ss-big { display: block; font-size: 2.6rem; font-weight: 700; line-height: 1.15; }
.ss-label { display: block; font-size: 1.1rem; color: #444; }
.ss-day { display: block; font-size: 1.7rem; font-weight: 600; }
.ss-side { display: block; font-size: 1.4rem; font-weight: 700; }
.ss-note { display: block; font-size: 1rem; color: #444; }
.v-btn.ss-control { font-size: 1.1rem; min-width: 7rem; }
"""


def _initial_scenario() -> str:
    files = scenario_files()
    wanted = os.environ.get(SCENARIO_ENV, "baseline.yaml")
    return wanted if wanted in files else (files[0] if files else wanted)


def _day_text(view: View, side: int) -> str:
    day = view.steps[side] * 365.0 / view.steps_per_year
    total = view.total_steps * 365.0 / view.steps_per_year
    return f"Day {day:,.0f} of {total:,.0f}"


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
def SideMap(view: View, side: int, colour_by: str) -> None:
    norm = map_norm(np.concatenate(view.hood[colour_by]), colour_by)
    png = solara.use_memo(lambda: figure_png(map_figure(view, side, colour_by, norm=norm), dpi=80),
                          dependencies=[view, side, colour_by])
    names = ", ".join(view.programmes) if view.programmes else "none switched on"
    with solara.Card(margin=0, style={"flex": "1", "min-width": "22rem"}):
        solara.Text(SIDES[side], classes=["ss-side"], style={"color": SIDE_COLOURS[side]})
        solara.Text(_day_text(view, side), classes=["ss-day", f"ss-day-{side}"])
        solara.Text(f"Programmes: {names}" if side else "Programmes: none", classes=["ss-note"])
        solara.Image(png, width="100%", classes=[f"ss-map-{side}"])


@solara.component
def Choice(label: str, options: dict, value: solara.Reactive) -> None:
    """A drop-down that shows ``options``' labels and sets ``value`` to the chosen key."""
    keys = {text: key for key, text in options.items()}
    solara.Select(label, values=list(keys), value=options[value.value], on_value=lambda text: value.set(keys[text]))


@solara.component
def ProgrammeSwitch(name: str, switches: solara.Reactive[dict[str, float]]) -> None:
    on = name in switches.value
    intensity = switches.value.get(name, 1.0)

    def toggle(value: bool) -> None:
        chosen = dict(switches.value)
        if value:
            chosen[name] = intensity
        else:
            chosen.pop(name, None)
        switches.set(chosen)

    def dose(value: float) -> None:
        switches.set({**switches.value, name: float(value)})

    solara.Switch(label=programme_label(name), value=on, on_value=toggle)
    if on:
        solara.SliderFloat(f"intensity {intensity:.1f}", value=intensity, min=0.0, max=3.0, step=0.1, on_value=dose)


@solara.component
def Board(comparison: Comparison, tick: int, colour_by: str) -> None:
    """The two cities, the readout, the charts and the exports, as they stand at ``tick``."""
    view = solara.use_memo(comparison.view, dependencies=[comparison, tick])
    charts = solara.use_memo(lambda: figure_png(charts_figure(view), dpi=80), dependencies=[view])
    Readouts(view)
    with solara.Row(gap="12px", style={"flex-wrap": "wrap", "align-items": "stretch"}):
        SideMap(view, 0, colour_by)
        SideMap(view, 1, colour_by)
    with solara.Card(margin=0):
        solara.Text("City outcomes, both sides", classes=["ss-side"])
        solara.Image(charts, width="100%", classes=["ss-charts"])
    solara.Text("One run on each side, with the same seed: the gap is the programme plus chance. For effect "
                "sizes with confidence intervals, use `safestreets compare`.", classes=["ss-note"])
    with solara.Row(gap="10px"):
        solara.FileDownload(lambda: figure_png(charts_figure(view), dpi=120), filename="safestreets-charts.png",
                            label="Charts as PNG")
        solara.FileDownload(lambda: gif_bytes(comparison, name=colour_by), filename="safestreets.gif",
                            label="Animation as GIF (for slides)")


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
    tick = solara.use_reactive(0)  # bumped when the cities have moved on: redraw

    settings = Settings(scenario.value, size.value, seed.value, tuple(sorted(switches.value.items())), str(folder))

    def build() -> Comparison | InputError:
        playing.set(False)
        try:
            return Comparison(settings)
        except InputError as err:
            return err

    built = solara.use_thread(build, dependencies=[settings, generation.value], intrusive_cancel=False)
    done = built.state == solara.ResultState.FINISHED
    comparison: Comparison | None = built.value if done and isinstance(built.value, Comparison) else None

    def play(cancel: threading.Event) -> None:
        """Step ``speed`` days, redraw, and again, until paused or the horizon is reached (in a worker thread)."""
        if comparison is None or not playing.value:
            return
        while not cancel.is_set() and not comparison.finished:
            comparison.step(speed.value)
            tick.set(tick.value + 1)  # redraws the page (in this thread), then the cities move on
            time.sleep(PAUSE_SECONDS)  # room for clicks between frames
        if comparison.finished:
            playing.set(False)

    solara.use_thread(play, dependencies=[playing.value, comparison], intrusive_cancel=False)

    def step_once() -> None:
        if comparison is not None:
            comparison.step(speed.value)
            tick.set(tick.value + 1)

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
        with solara.Row(gap="10px", style={"align-items": "center"}):
            solara.Button("Pause" if playing.value else "Play", icon_name="mdi-pause" if playing.value else "mdi-play",
                          color="primary", classes=["ss-control"], on_click=lambda: playing.set(not playing.value),
                          disabled=comparison is None or comparison.finished)
            solara.Button(f"Step +{SPEEDS[speed.value]}", icon_name="mdi-step-forward", classes=["ss-control"],
                          on_click=step_once, disabled=comparison is None or playing.value or comparison.finished)
            solara.Button("Reset", icon_name="mdi-restart", classes=["ss-control"],
                          on_click=lambda: generation.set(generation.value + 1))
        if done and isinstance(built.value, InputError):
            solara.Error(str(built.value))
        elif comparison is None:
            solara.Info("Building the two cities (each first lives through a year of spin-up)...")
            solara.ProgressLinear(True)
        else:
            Board(comparison, tick.value, colour_by.value)
