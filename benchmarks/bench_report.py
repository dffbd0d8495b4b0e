"""The tables of benchmarks/run.py, for both targets: a table is a list of columns, each a header,
a function of one result entry giving its cell, and optionally a function of all the entries giving
the cell of the closing "geomean" row.
"""
import math


def geomean(values):
    values = [v for v in values if v and v > 0]
    if not values:
        return None
    return math.exp(sum(math.log(v) for v in values) / len(values))


def fmt_ms(v):
    if v is None:
        return "n/a"
    return f"{v:.3f}" if v < 1 else (f"{v:.2f}" if v < 100 else f"{v:.1f}")


def fmt(v, spec, suffix=""):
    return "n/a" if v is None else format(v, spec) + suffix


def percent(share):
    """A share (0.93) as a percentage cell ("93%")."""
    return fmt(None if share is None else 100 * share, ".0f", "%")


class Column:
    def __init__(self, head, cell, foot=None):
        self.head, self.cell, self.foot = head, cell, foot


def geomean_column(head, key, spec=".2f"):
    """A ratio column: the entry's `key`, and the geomean of the column in the closing row."""
    return Column(head, lambda e: fmt(e[key], spec),
                  lambda entries: fmt(geomean([e[key] for e in entries]), spec))


def table(entries, columns):
    """(header, rows) of the entries; the last row is the geomean row when entries exist."""
    head = [c.head for c in columns]
    rows = [[c.cell(e) for c in columns] for e in entries]
    if entries:
        foot = [c.foot(entries) if c.foot else "" for c in columns]
        rows.append(["geomean"] + foot[1:])
    return head, rows


def render_text(head, rows):
    widths = [max(len(str(x)) for x in col) for col in zip(head, *rows)]
    line = lambda cells: "  ".join(  # noqa: E731
        str(c).ljust(w) if i == 0 else str(c).rjust(w) for i, (c, w) in enumerate(zip(cells, widths)))
    out = [line(head), "  ".join("-" * w for w in widths)]
    out += [line(r) for r in rows]
    return "\n".join(out)


def render_markdown(head, rows):
    out = ["| " + " | ".join(head) + " |",
           "|" + "|".join(["---"] + ["---:"] * (len(head) - 1)) + "|"]
    for r in rows:
        cells = [f"**{c}**" if r[0] == "geomean" and c else c for c in r]
        out.append("| " + " | ".join(str(c) for c in cells) + " |")
    return "\n".join(out)


def na_notes(entries, labels):
    """'runner: reason (workloads)' lines, one per distinct reason."""
    reasons = {}
    for e in entries:
        for r, s in e["runners"].items():
            if s["error"]:
                reasons.setdefault((labels[r], s["error"]), []).append(e["workload"])
    return [f"{label} n/a on {', '.join(ws)}: {why}" for (label, why), ws in reasons.items()]


def add_table(text, md, caption, head, rows, notes):
    """Appends one table, its caption and its n/a notes to the text and markdown outputs."""
    text += ["", caption, render_text(head, rows)] + [f"  {n}" for n in notes]
    md += ["", f"#### {caption}", "", render_markdown(head, rows)]
    if notes:
        md += [""] + [f"- {n}" for n in notes]
