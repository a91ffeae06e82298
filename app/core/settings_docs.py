"""The settings' documentation, written from their declaration (app.core.settings): the tables of
docs/configuration.md and .env.example. ``python -m app.core.settings_docs`` writes both."""

import sys
from collections.abc import Iterable
from pathlib import Path

from app.core.settings import APP, PROCESS_SETTINGS, SECTIONS, Setting, text_of

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs" / "configuration.md"
ENV_EXAMPLE = ROOT / ".env.example"
BEGIN = "<!-- settings -->"
END = "<!-- end of settings -->"
PROCESSES = "Processes around the app"


def shown_default(setting: Setting) -> str:
    """The default column: the value (by mode where it differs), or the declared words."""
    if setting.shown:
        return setting.shown
    shown = "unset" if setting.default is None else f"`{text_of(setting.default)}`"
    others = [f"{mode}: {'unset' if value is None else f'`{text_of(value)}`'}" for mode, value in setting.modes.items()]
    return f"{shown} ({'; '.join(others)})" if others else shown


def read_where(setting: Setting) -> str:
    """Where a setting the app does not read is read, as the end of its meaning."""
    return "" if setting.read_by == APP else f" (read by `{setting.read_by}`)"


def table(settings: Iterable[Setting]) -> list[str]:
    """A markdown table of ``settings``: name, default, what it accepts, meaning."""
    rows = ["| variable | default | accepts | meaning |", "|---|---|---|---|"]
    rows += [f"| `{s.name}` | {shown_default(s)} | {s.kind.accepts} | {s.meaning}{read_where(s)} |" for s in settings]
    return rows


def tables() -> str:
    """The docs' settings tables: one per section of the app's, then the processes' (each saying who reads it)."""
    lines = [BEGIN]
    for title, settings in SECTIONS.items():
        lines += ["", f"### {title}", "", *table(settings)]
    lines += ["", f"### {PROCESSES}", "", "Not read by `app.config`: each row says where.", "",
              *table(PROCESS_SETTINGS), "", END]
    return "\n".join(lines)


def documented(current: str) -> str:
    """``current`` (docs/configuration.md) with its settings tables written anew; the prose around them is kept."""
    before, begin, rest = current.partition(BEGIN)
    _, end, after = rest.partition(END)
    if not (begin and end):
        raise SystemExit(f"{DOCS.relative_to(ROOT)} has no {BEGIN!r} ... {END!r} block to write the tables into")
    return before + tables() + after


def env_example() -> str:
    """.env.example: every variable, commented out at its default (or an example where it has none)."""
    lines = ["# Copy to .env and uncomment what you change; docs/configuration.md says what each one means.",
             "# Each line holds the default, or an example where there is none.",
             "# Written by `python -m app.core.settings_docs` from app/core/settings.py: edit there, not here."]
    for title, settings in {**SECTIONS, PROCESSES: PROCESS_SETTINGS}.items():
        lines += ["", f"# --- {title} ---"]
        for setting in settings:
            value = setting.example if setting.default is None else setting.default
            lines.append(f"# {setting.name}={'' if value is None else text_of(value)}")
    return "\n".join(lines) + "\n"


def write() -> None:
    """Write docs/configuration.md's tables and .env.example from the declaration."""
    DOCS.write_text(documented(DOCS.read_text()))
    ENV_EXAMPLE.write_text(env_example())


if __name__ == "__main__":
    write()
    print(f"wrote {DOCS.relative_to(ROOT)} and {ENV_EXAMPLE.relative_to(ROOT)}", file=sys.stderr)
