"""A self-contained SVG of one experiment's runs over time: the outcome of each run as a coloured
mark on a band at the top, the error rate during the fault (%) as a line below. Standard library
only; every figure drawn comes from the runs given."""

from __future__ import annotations

from collections.abc import Sequence
from xml.sax.saxutils import escape

from chaos.metrics import OUTCOMES
from chaos.run_records import RunRecord

WIDTH, HEIGHT = 720, 240
LEFT, RIGHT, TOP, BOTTOM = 60, 20, 56, 36
BAND_Y = 34
COLOURS = {
    "succeeded": "#2e7d32",
    "deviated": "#ef6c00",
    "aborted": "#757575",
    "failed": "#c62828",
}


def _text(x: float, y: float, text: str, anchor: str = "start", size: int = 11) -> str:
    return (
        f'<text x="{x:.1f}" y="{y:.1f}" font-size="{size}" text-anchor="{anchor}" '
        f'font-family="sans-serif">{escape(text)}</text>'
    )


def render_chart(title: str, runs: Sequence[RunRecord]) -> str:
    """The SVG document (a string) for ``runs`` of one experiment, oldest to newest."""
    runs = sorted(runs, key=lambda run: run.when)
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" '
        f'viewBox="0 0 {WIDTH} {HEIGHT}">',
        f"<title>{escape(title)}</title>",
        f'<rect width="{WIDTH}" height="{HEIGHT}" fill="#ffffff"/>',
        _text(LEFT, 16, title, size=13),
    ]
    legend_x = WIDTH - RIGHT
    for outcome in reversed(OUTCOMES):
        legend_x -= 88
        parts.append(
            f'<circle cx="{legend_x + 6}" cy="12" r="5" fill="{COLOURS[outcome]}"/>'
            + _text(legend_x + 14, 16, outcome, size=10)
        )
    if not runs:
        parts.append(_text(WIDTH / 2, HEIGHT / 2, "no runs recorded", anchor="middle"))
        parts.append("</svg>")
        return "\n".join(parts) + "\n"

    first, last = runs[0].when, runs[-1].when
    span = (last - first).total_seconds()

    def x_of(run: RunRecord) -> float:
        if span <= 0:
            return LEFT + plot_w / 2
        return LEFT + plot_w * (run.when - first).total_seconds() / span

    rates = [100 * run.error_rate for run in runs if run.error_rate is not None]
    top_rate = max([*rates, 1.0])

    def y_of(rate_percent: float) -> float:
        return TOP + plot_h * (1 - rate_percent / top_rate)

    parts += [
        _text(LEFT - 6, BAND_Y + 4, "outcome", anchor="end", size=10),
        f'<line x1="{LEFT}" y1="{TOP}" x2="{LEFT}" y2="{TOP + plot_h}" stroke="#444"/>',
        f'<line x1="{LEFT}" y1="{TOP + plot_h}" x2="{LEFT + plot_w}" y2="{TOP + plot_h}" '
        'stroke="#444"/>',
        _text(LEFT - 6, TOP + 4, f"{top_rate:.2f}%", anchor="end", size=10),
        _text(LEFT - 6, TOP + plot_h + 4, "0%", anchor="end", size=10),
        _text(LEFT + 4, TOP + 12, "error rate during the fault", size=10),
        _text(LEFT, HEIGHT - 12, first.strftime("%Y-%m-%d"), size=10),
    ]
    if span > 0:
        parts.append(_text(LEFT + plot_w, HEIGHT - 12, last.strftime("%Y-%m-%d"), "end", 10))
    for run in runs:
        label = f"{run.when:%Y-%m-%d %H:%M}Z {run.outcome}"
        parts.append(
            f'<circle cx="{x_of(run):.1f}" cy="{BAND_Y}" r="6" fill="{COLOURS[run.outcome]}">'
            f"<title>{escape(label)}</title></circle>"
        )
    measured = [run for run in runs if run.error_rate is not None]
    points = [(x_of(run), y_of(100 * float(run.error_rate or 0))) for run in measured]
    if len(points) > 1:
        path = " ".join(f"{x:.1f},{y:.1f}" for x, y in points)
        parts.append(f'<polyline points="{path}" fill="none" stroke="#1565c0" stroke-width="2"/>')
    for run, (x, y) in zip(measured, points, strict=True):
        label = f"{run.when:%Y-%m-%d %H:%M}Z {100 * float(run.error_rate or 0):.2f}%"
        parts.append(
            f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3.5" fill="#1565c0">'
            f"<title>{escape(label)}</title></circle>"
        )
    if not measured:
        parts.append(
            _text(LEFT + plot_w / 2, TOP + plot_h / 2, "no error rate measured", "middle", 11)
        )
    parts.append("</svg>")
    return "\n".join(parts) + "\n"
