"""Regenerate the field tables of docs/scenarios.md from the typed scenario (so the guide cannot drift).

The tables sit between ``<!-- begin:fields NAME -->`` and ``<!-- end:fields NAME -->`` markers,
where NAME is a scenario section (``top``, ``city``, ``gangs``, ...), ``target``, ``programme``
(the fields every programme shares) or a programme type (``youth_programs``, ...). Defaults,
bounds and descriptions are read from the pydantic fields.

    python docs/tables.py           # rewrite the tables in place
    python docs/tables.py --check   # exit 1 if any table is out of date (for CI)
"""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import Any

from pydantic import BaseModel
from pydantic.fields import FieldInfo

from model.interventions import REGISTRY
from model.interventions.base import Intervention, Target
from model.scenario import Scenario

GUIDE = Path(__file__).with_name("scenarios.md")
SHARED = set(Intervention.model_fields) - {"type"}
MARK = re.compile(r"(<!-- begin:fields (\S+) -->\n)(.*?)(<!-- end:fields \2 -->)", re.S)


def _bounds(info: FieldInfo) -> str:
    parts = []
    for meta in info.metadata:
        for attr, sign in (("ge", ">="), ("gt", ">"), ("le", "<="), ("lt", "<")):
            value = getattr(meta, attr, None)
            if value is not None:
                parts.append(f"{sign} {value:,}" if isinstance(value, int) else f"{sign} {value:g}")
        pattern = getattr(meta, "pattern", None)
        if pattern:
            parts.append(f"pattern `{pattern}`")
    text = str(info.annotation)
    if "Literal[" in text:
        choices = re.findall(r"'([^']+)'", text)
        parts.append(" \\| ".join(f"`{c}`" for c in choices))
    return ", ".join(parts)


def _default(info: FieldInfo) -> str:
    value: Any = info.get_default(call_default_factory=True)
    if isinstance(value, BaseModel):
        fields = value.model_fields_set or {k for k, v in value.model_dump().items() if v is not None}
        dumped = {k: v for k, v in value.model_dump().items() if k in fields and v is not None}
        if isinstance(value, Target) and dumped.get("top_k") is not None:
            dumped.setdefault("by", value.by)
        text = ", ".join(f"{k}: {v}" for k, v in dumped.items())
        return f"`{{{text}}}`" if dumped else "`all`" if isinstance(value, Target) else "(section)"
    if isinstance(value, dict):
        return "<br>".join(f"{k}: {v:g}" for k, v in value.items())
    if value is None:
        return "none"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float):
        return f"{value:,.6g}"
    if isinstance(value, int):
        return f"{value:,}"
    return f"`{value}`" if value != "" else '""'


def table(cls: type[BaseModel], skip: set[str] | None = None) -> str:
    """A markdown table of ``cls``'s fields: name, default, allowed values, meaning."""
    rows = ["| field | default | allowed | meaning |", "|---|---|---|---|"]
    for name, info in cls.model_fields.items():
        if skip and name in skip:
            continue
        if isinstance(info.get_default(call_default_factory=True), BaseModel) and cls is Scenario:
            continue  # sections get their own tables
        fallback = Intervention.model_fields.get(name) if issubclass(cls, Intervention) else None
        desc = (info.description or (fallback.description if fallback else "") or "").replace("|", "\\|")
        rows.append(f"| `{name}` | {_default(info)} | {_bounds(info)} | {desc} |")
    return "\n".join(rows) + "\n"


def tables() -> dict[str, str]:
    """Every generated table by marker name."""
    out = {"top": table(Scenario, skip={"interventions"})}
    for name, info in Scenario.model_fields.items():
        default = info.get_default(call_default_factory=True)
        if isinstance(default, BaseModel):
            out[name] = table(type(default))
    out["target"] = table(Target)
    out["programme"] = table(Intervention, skip={"type"})
    for name, cls in REGISTRY.items():
        own = {f for f, i in cls.model_fields.items()
               if f in SHARED and i.get_default(call_default_factory=True)
               == Intervention.model_fields[f].get_default(call_default_factory=True)}
        out[name] = table(cls, skip={"type", "label", *own})
    return out


def render(text: str) -> str:
    """``text`` with every marked table replaced by its generated version."""
    generated = tables()

    def swap(match: re.Match[str]) -> str:
        name = match.group(2)
        if name not in generated:
            raise KeyError(f"docs/scenarios.md: unknown table marker '{name}'")
        return match.group(1) + generated[name] + match.group(4)

    return MARK.sub(swap, text)


def main(argv: list[str]) -> int:
    text = GUIDE.read_text(encoding="utf-8")
    new = render(text)
    if "--check" in argv:
        if new != text:
            print("docs/scenarios.md: field tables are out of date; run python docs/tables.py", file=sys.stderr)
            return 1
        return 0
    GUIDE.write_text(new, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
