"""The ``safestreets`` command: run, validate and inspect scenarios (batch commands in runner).

Bad input prints one line (file, field, expected, found) and exits with code 2, no traceback.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from model.errors import InputError

__all__ = ["main", "build_parser"]

SUMMARY_ROWS = (
    "homicides", "homicide_rate", "robberies", "extortions", "assaults", "crimes_reported",
    "reported_share", "fear", "trust", "economic_activity", "gang_members", "recruits", "arrests",
    "convictions", "incarcerated", "contraband_inflow", "seizures", "cost_usd",
)


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # one line, exit 2 (argparse's code), no usage dump
        self.exit(2, f"safestreets: {message} (see 'safestreets {self.prog.split()[-1]} --help')\n"
                  if " " in self.prog else f"safestreets: {message} (see 'safestreets --help')\n")


def years_argument(text: str) -> float:
    """An argparse type: a horizon in years, in (0, 50]."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number of years, found '{text}'") from None
    if not 0 < value <= 50:
        raise argparse.ArgumentTypeError(f"expected years in (0, 50], found {text}")
    return value


def _seed(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole-number seed, found '{text}'") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected a seed >= 0, found {text}")
    return value


def _port(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a port number, found '{text}'") from None
    if not 1 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"expected a port in 1..65535, found {text}")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="safestreets", description="Safe Streets: simulate community-security programmes.")
    parser.add_argument("--version", action="version", version=_version())
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    p = sub.add_parser("run", help="run one scenario and write its tables and a plot")
    p.add_argument("scenario", type=Path, help="scenario file (YAML)")
    p.add_argument("--seed", type=_seed, help="root seed (default: the scenario's)")
    p.add_argument("--years", type=years_argument, help="horizon in years (default: the scenario's)")
    p.add_argument("--out", type=Path, default=Path("results"), help="base folder (default: results)")
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="PATH=VALUE",
                   help="override a field by dotted path, e.g. city.residents=1000000 (repeatable)")
    p.add_argument("--no-plot", action="store_true", help="skip the PNG")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=cmd_run)

    p = sub.add_parser("validate", help="check scenario files; one line per problem")
    p.add_argument("files", nargs="+", type=Path)
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="PATH=VALUE")
    p.set_defaults(func=cmd_validate)

    p = sub.add_parser("schema", help="print the JSON Schema of scenario files")
    p.add_argument("--out", type=Path, help="write to this file instead of standard output")
    p.set_defaults(func=cmd_schema)

    p = sub.add_parser("programmes", help="list the registered programmes and their parameters")
    p.set_defaults(func=cmd_programmes)

    p = sub.add_parser("dashboard", help="serve the trainer dashboard: one city without and with programmes, live")
    p.add_argument("--host", default="127.0.0.1",
                   help="address to listen on (default: 127.0.0.1, this machine only; 0.0.0.0 opens it to the network)")
    p.add_argument("--port", type=_port, default=8765, help="port to listen on (default: 8765)")
    p.add_argument("--scenarios", type=Path, help="folder of scenario files to offer (default: ./scenarios)")
    p.add_argument("--scenario", default="baseline.yaml", help="file shown first (default: baseline.yaml)")
    p.add_argument("--size", choices=("small", "file", "large"), default="file",
                   help="city shown first: small (20,000 people), file (as the file says), large (300,000)")
    p.set_defaults(func=cmd_dashboard)

    for register in _extensions():
        register(sub)
    return parser


def _extensions() -> list[Callable[[argparse._SubParsersAction], None]]:
    """Sub-commands defined by other modules (batch runs), registered if present."""
    try:
        from model.batch_cli import register
    except ImportError:
        return []
    return [register]


def _version() -> str:
    from model import __version__

    return f"safestreets {__version__}"


def cmd_validate(args: argparse.Namespace) -> int:
    from model.scenario import load_scenario

    bad = 0
    for path in args.files:
        try:
            sc = load_scenario(path, overrides=args.overrides)
        except InputError as err:
            print(err, file=sys.stderr)
            bad += 1
        else:
            print(f"{path}: ok ({sc.name}: {sc.city.residents:,} residents, {sc.city.neighbourhoods} "
                  f"neighbourhoods, {sc.years:g} years, {len(sc.interventions)} programmes)")
    return 2 if bad else 0


def cmd_schema(args: argparse.Namespace) -> int:
    from model.scenario import scenario_schema

    text = json.dumps(scenario_schema(), indent=2)
    if args.out:
        args.out.write_text(text + "\n", encoding="utf-8")
    else:
        print(text)
    return 0


def cmd_programmes(args: argparse.Namespace) -> int:
    from model.interventions import REGISTRY

    for name in sorted(REGISTRY):
        cls = REGISTRY[name]
        print(f"{name}: {cls.mechanism}")
        for field, info in cls.model_fields.items():
            if field in ("type", "label"):
                continue
            print(f"    {field} = {info.get_default(call_default_factory=True)!r}  {info.description or ''}")
    return 0


def cmd_dashboard(args: argparse.Namespace) -> int:
    """Serve :mod:`model.dashboard.app` with Solara until interrupted (this process becomes the server)."""
    import os

    from model.dashboard.choices import SCENARIO_ENV, SCENARIOS_ENV, SIZE_ENV, default_scenarios_dir, scenario_files

    folder = (args.scenarios or default_scenarios_dir()).resolve()
    if not folder.is_dir():
        raise InputError("--scenarios", str(folder), "a folder of scenario files", "no such folder")
    files = scenario_files(folder)
    if args.scenario not in files:
        raise InputError("--scenario", args.scenario, f"a file in {folder} ({', '.join(files) or 'none there'})",
                         f"'{args.scenario}'")
    env = {**os.environ, SCENARIOS_ENV: str(folder), SCENARIO_ENV: args.scenario, SIZE_ENV: args.size,
           "SOLARA_TELEMETRY_MIXPANEL_ENABLE": "False"}  # a training room's dashboard reports to no one
    where = "this machine only" if args.host in ("127.0.0.1", "localhost", "::1") else "reachable from the network"
    print(f"Safe Streets dashboard at http://{args.host}:{args.port}/ ({where}); Ctrl-C stops it", flush=True)
    command = [sys.executable, "-m", "solara", "run", "model.dashboard.app", "--host", args.host,
               "--port", str(args.port), "--production", "--no-open", "--no-check-version", "--log-level", "warning"]
    os.execve(sys.executable, command, env)  # Ctrl-C and signals reach the server itself
    return 0  # not reached


def run_folder(base: Path, scenario_name: str, seed: int, digest: str) -> Path:
    """``<base>/<scenario>/seed-<seed>-<hash>``: stable for the same inputs, distinct otherwise."""
    return base / scenario_name / f"seed-{seed}-{digest[:8]}"


def cmd_run(args: argparse.Namespace) -> int:
    from model.api import run
    from model.scenario import load_scenario, scenario_hash

    scenario = load_scenario(args.scenario, overrides=args.overrides, years=args.years, seed=args.seed)
    seed = scenario.seed
    out = run_folder(args.out, scenario.name, seed, scenario_hash(scenario))
    bar = None
    progress = None
    if not args.quiet:
        from tqdm import tqdm

        bar = tqdm(total=scenario.steps, desc=scenario.name, unit="day", file=sys.stderr, leave=False)

        def progress(done: int, total: int) -> None:
            bar.update(1)

    try:
        result = run(scenario, seed=seed, progress=progress)
    finally:
        if bar is not None:
            bar.close()
    folder = result.save(out, plot=not args.no_plot)
    print(format_summary(result.summary))
    print(f"\nwrote {folder}/ (timeseries.parquet, neighbourhoods.parquet, summary.csv, manifest.json"
          f"{', main_series.png' if not args.no_plot else ''})")
    return 0


def _fmt(value: float, kind: str) -> str:
    if value != value:  # NaN
        return "-"
    return f"{value:,.0f}" if abs(value) >= 100 or kind == "count" else f"{value:.3f}"


def format_summary(summary) -> str:  # noqa: ANN001 - a pandas DataFrame
    """A readable table of the main outcomes by year."""
    rows = summary.set_index("outcome").loc[list(SUMMARY_ROWS)]
    years = [c for c in summary.columns if c.startswith("year_")]
    header = (f"{'outcome':<28}{'unit':<18}" + "".join(f"{y.replace('_', ' '):>12}" for y in years)
              + f"{'all years':>14}")
    lines = [header, "-" * len(header)]
    for _, row in rows.iterrows():
        cells = "".join(f"{_fmt(row[y], row['kind']):>12}" for y in years)
        lines.append(f"{row['label'][:27]:<28}{row['unit'][:17]:<18}{cells}{_fmt(row['all_years'], row['kind']):>14}")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except InputError as err:
        print(err, file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("safestreets: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # e.g. `safestreets schema | head`: the reader has gone, which is fine
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


if __name__ == "__main__":
    sys.exit(main())
