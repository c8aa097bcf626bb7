"""Renders the settings reference of docs/config.md from the schema, so the docs cannot drift."""

from speakerd.config import Config
from speakerd.config.schema import default_text, describe, type_name

START, END = "<!-- settings:start -->", "<!-- settings:end -->"


def settings_table() -> str:
    lines = ["| setting | type | default | what it does |", "|---|---|---|---|"]
    for path, tp, f in describe(Config):
        constraint = []
        for word, key in (("at least", "minimum"), ("at most", "maximum")):
            if f.metadata.get(key) is not None:
                constraint.append(f"{word} {f.metadata[key]:g}")
        kind = type_name(tp) + (f" ({', '.join(constraint)})" if constraint else "")
        lines.append(f"| `{path}` | {kind} | {default_text(f)} | {f.metadata.get('help', '')} |")
    return "\n".join(lines)


def render(document: str) -> str:
    """``document`` with the part between the markers replaced by the current table."""
    head, _, rest = document.partition(START)
    _, _, tail = rest.partition(END)
    return f"{head}{START}\n{settings_table()}\n{END}{tail}"


if __name__ == "__main__":
    import sys
    from pathlib import Path

    path = Path(sys.argv[1] if len(sys.argv) > 1 else "docs/config.md")
    path.write_text(render(path.read_text(encoding="utf-8")), encoding="utf-8")
    print(f"updated {path}")
