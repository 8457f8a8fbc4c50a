"""What a student sees of a self-check: a styled, wrapping table in Jupyter (passed/failed in
words and colour, readable in light and dark themes), plain text elsewhere."""

from __future__ import annotations

from typing import Any


class CheckResult:
    """What ``check`` returns: a styled table in Jupyter, text elsewhere."""

    def __init__(self, report: dict[str, Any], notes: list[str] | None = None) -> None:
        self.report = report
        self.notes = notes or []
        self.score = sum(t["score"] for t in report["tests"])
        self.max_score = sum(t["max_score"] for t in report["tests"])

    @property
    def passed(self) -> bool:
        return bool(self.report["tests"]) and all(t["passed"] for t in self.report["tests"])

    def _repr_html_(self) -> str:
        return render_html(self.report, self.notes)

    def __repr__(self) -> str:
        return render_text(self.report, self.notes)


def footer(report: dict) -> str:
    tests = report["tests"]
    score = sum(t["score"] for t in tests)
    total = sum(t["max_score"] for t in tests)
    hidden = report.get("hidden_points") or 0
    worth = f" (worth {hidden:g} more points)" if hidden else ""
    return (f"Public checks: {score:g} / {total:g} points. These are not your grade: hidden "
            f"tests{worth} also count, and they run when your work is graded.")


def render_text(report: dict, notes: list[str]) -> str:
    lines = [f"{report['title']}: public checks"]
    for t in report["tests"]:
        mark = "passed" if t["passed"] else "FAILED"
        lines.append(f"  [{mark}] {t['description']} ({t['score']:g}/{t['max_score']:g})")
        lines += [f"      {line}" for line in t["message"].splitlines()]
    lines += [f"note: {note}" for note in notes]
    lines.append(footer(report))
    return "\n".join(lines)


# Colours that read on light and dark notebook themes: text keeps the theme's colour, the verdict
# has a translucent background and a saturated word.
PASSED_STYLE = "background:rgba(46,160,67,.18);color:#2da44e;font-weight:600"
FAILED_STYLE = "background:rgba(248,81,73,.18);color:#e5534b;font-weight:600"
CELL_STYLE = "text-align:left;vertical-align:top;padding:4px 8px;border:1px solid rgba(128,128,128,.35)"


def render_html(report: dict, notes: list[str]) -> str:
    from html import escape

    rows = []
    for t in report["tests"]:
        verdict = ("passed", PASSED_STYLE) if t["passed"] else ("failed", FAILED_STYLE)
        why = (f'<pre style="white-space:pre-wrap;overflow-wrap:anywhere;margin:0;'
               f'background:transparent;color:inherit">{escape(t["message"])}</pre>') if t["message"] else ""
        rows.append(f'<tr><td style="{CELL_STYLE}">{escape(t["description"])}</td>'
                    f'<td style="{CELL_STYLE};white-space:nowrap">{t["score"]:g} / {t["max_score"]:g}</td>'
                    f'<td style="{CELL_STYLE};{verdict[1]}">{verdict[0]}</td>'
                    f'<td style="{CELL_STYLE}">{why}</td></tr>')
    head = "".join(f'<th style="{CELL_STYLE}">{name}</th>' for name in ("test", "points", "result", "why"))
    note_html = "".join(f"<p><i>note: {escape(n)}</i></p>" for n in notes)
    return (f'<div class="grader-check" style="max-width:100%">'
            f"<h4>{escape(report['title'])}: public checks</h4>"
            f'<table style="table-layout:fixed;width:100%;border-collapse:collapse">'
            f'<colgroup><col style="width:34%"><col style="width:9%"><col style="width:8%">'
            f'<col style="width:49%"></colgroup><thead><tr>{head}</tr></thead>'
            f"<tbody>{''.join(rows)}</tbody></table>{note_html}"
            f"<p><b>{escape(footer(report))}</b></p></div>")
