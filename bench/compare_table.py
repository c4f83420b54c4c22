"""Print the comparison table from the JSON lines of bench/compare_run.py.

Usage: compare_table.py SIZE RESULTS.jsonl [BUILD_SECONDS [ADDON_REV]]
(plain Python, no Odoo needed; bench/compare calls it).
"""

import json
import sys

SIZES = {"S": "1,000 customers x 5 invoices", "M": "10,000 customers x 5 invoices"}


def load(path):
    figures = {}
    notes = []
    with open(path, encoding="utf-8") as lines:
        for line in lines:
            figure = json.loads(line)
            if "seconds" not in figure:
                notes.append(f"{figure['label']}: skipped ({figure['note']})")
                continue
            figures[(figure["row"], figure["side"])] = figure
            if figure.get("note"):
                notes.append(f"{figure['label']}: {figure['note']}")
    return figures, notes


def total(label, parts):
    """One figure summing sequential steps of one process (peak = the last)."""
    if not parts or any(part is None for part in parts):
        return None
    return {
        "label": label,
        "seconds": sum(part["seconds"] for part in parts),
        "queries": sum(part["queries"] for part in parts),
        "peak_mb": max(part["peak_mb"] for part in parts),
        "delta_mb": max(part["delta_mb"] for part in parts),
        "count": parts[-1]["count"],
        "mails": sum(part["mails"] for part in parts),
    }


def cell(figure, key, fmt):
    if figure is None or figure.get(key) is None:
        return "-"
    return fmt.format(figure[key])


def ratio(ours, theirs, key):
    if not ours or not theirs or not theirs.get(key):
        return "-"
    return f"{ours[key] / theirs[key]:.2f}"


HEADER = (
    f"{'':<44} {'time s':>9} {'queries':>9} {'peak MB':>8} {'(+MB)':>7} "
    f"{'comms':>7} {'mails':>7}"
)


def line(figure, label=None):
    label = figure["label"] if figure else label
    return (
        f"{label:<44} {cell(figure, 'seconds', '{:.2f}'):>9} "
        f"{cell(figure, 'queries', '{:d}'):>9} {cell(figure, 'peak_mb', '{:.0f}'):>8} "
        f"{cell(figure, 'delta_mb', '{:+.0f}'):>7} {cell(figure, 'count', '{:d}'):>7} "
        f"{cell(figure, 'mails', '{:d}'):>7}"
    )


def ratio_line(label, ours, theirs):
    return (
        f"{'  ratio ' + label:<44} {ratio(ours, theirs, 'seconds'):>9} "
        f"{ratio(ours, theirs, 'queries'):>9} {ratio(ours, theirs, 'peak_mb'):>8}"
    )


def main(size, path, build_seconds="", rev=""):
    figures, notes = load(path)
    get = figures.get
    oca_parts = [get(("batch", side)) for side in ("oca_lines", "oca_mark", "oca_send")]
    oca_total = total("OCA lines + mark + send", oca_parts)
    out = [
        f"relance_avancee ({rev}) vs OCA account_credit_control 18.0.2.0.2.6 — "
        f"size {size}: {SIZES.get(size, '')}",
        f"template built in {build_seconds or '?'} s; each block = one odoo shell "
        "process on a fresh copy",
        "",
        HEADER,
        line(get(("scan", "floor")), "floor: one grouped SQL query"),
        line(get(("scan", "ours")), "our scan (cold cache)"),
        ratio_line("scan / floor", get(("scan", "ours")), get(("scan", "floor"))),
        "",
        line(get(("batch", "ours")), "our batch up to queued mails"),
        line(get(("cron", "ours")), "our cron path (relance.run)"),
        *(line(part) for part in oca_parts if part),
        line(oca_total, "OCA lines + mark + send (total)"),
        ratio_line("our batch / OCA total", get(("batch", "ours")), oca_total),
        ratio_line("our cron path / OCA total", get(("cron", "ours")), oca_total),
        "",
        line(get(("pdf", "ours")), "our batch, invoice PDFs, 100 customers"),
        line(get(("pdf", "oca")), "OCA mark + send, summary PDF, 100 customers"),
        ratio_line("PDFs ours / OCA", get(("pdf", "ours")), get(("pdf", "oca"))),
        "",
        "time = wall clock; queries = SQL statements of the process (all cursors);",
        "peak MB = ru_maxrss of the process at the end of the step (+MB: over its",
        "baseline once the environment is loaded); comms = communications made",
        "(ours) / credit lines or communications (OCA); mails = mail.mail created.",
        "OCA total: its three steps run one after the other in one process.",
    ]
    if notes:
        out += ["", "Notes:"] + [f"- {note}" for note in notes]
    print("\n".join(out))


if __name__ == "__main__":
    main(*sys.argv[1:])
