"""Charts drawn by the server as SVG: no JavaScript or CDN to see them, and they print.

Each chart is an <svg role="img"> named by its <title> and described by a <desc> that says
what the picture shows in words; every bar or point has its own <title> with its figure.
The numbers also sit beside each chart in a table (the templates' job). Labels can come
from visitors (a campaign name): everything is escaped.
"""

from collections.abc import Sequence

from markupsafe import Markup, escape

WIDTH = 640
BAR_HEIGHT = 22
BAR_GAP = 8
LABEL_WIDTH = 190
VALUE_WIDTH = 70
PLOT_HEIGHT = 200
MARGIN = 36
# Colour-blind-safe (Okabe-Ito), and every series also differs by dash pattern.
SERIES_STYLES = [
    ("#0072b2", ""),
    ("#d55e00", "6 3"),
    ("#009e73", "2 3"),
    ("#cc79a7", "8 3 2 3"),
    ("#e69f00", "1 2"),
    ("#56b4e9", "4 4"),
    ("#000000", "10 4"),
    ("#f0e442", "3 6"),
]


def _number(value: float) -> str:
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.1f}"


def _frame(chart_id: str, title: str, description: str, width: int, height: int, body: str):
    chart_id = escape(chart_id)
    return Markup(
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" '
        f'viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
        f'aria-labelledby="{chart_id}-title {chart_id}-desc">'
        f'<title id="{chart_id}-title">{escape(title)}</title>'
        f'<desc id="{chart_id}-desc">{escape(description)}</desc>{body}</svg>'
    )


def bar_chart(
    chart_id: str, title: str, bars: Sequence[tuple[str, float]], *, unit: str = ""
) -> Markup:
    """Horizontal bars, one per (label, value), longest for the largest: funnels, breakdowns."""
    largest = max((value for _, value in bars), default=0) or 1
    room = WIDTH - LABEL_WIDTH - VALUE_WIDTH
    parts = []
    for row, (label, value) in enumerate(bars):
        y = row * (BAR_HEIGHT + BAR_GAP)
        length = max(room * value / largest, 1 if value else 0)
        figure = f"{_number(value)}{unit}"
        parts.append(
            f"<g><title>{escape(label)}: {escape(figure)}</title>"
            f'<text x="{LABEL_WIDTH - 8}" y="{y + 15}" text-anchor="end">{escape(label)}</text>'
            f'<rect x="{LABEL_WIDTH}" y="{y}" width="{length:.1f}" height="{BAR_HEIGHT}" '
            f'fill="{SERIES_STYLES[0][0]}"/>'
            f'<text x="{LABEL_WIDTH + length + 6:.1f}" y="{y + 15}">{escape(figure)}</text></g>'
        )
    height = max(len(bars), 1) * (BAR_HEIGHT + BAR_GAP)
    description = "; ".join(f"{label}: {_number(value)}{unit}" for label, value in bars)
    return _frame(chart_id, title, description or "No data.", WIDTH, height, "".join(parts))


def line_chart(
    chart_id: str,
    title: str,
    x_labels: Sequence[str],
    series: dict[str, Sequence[float]],
) -> Markup:
    """One line per series over shared x labels (days): trends. Axis from zero to the peak."""
    peak = max((max(values, default=0) for values in series.values()), default=0) or 1
    count = max(len(x_labels), 1)
    step = (WIDTH - 2 * MARGIN) / max(count - 1, 1)

    def point(index: int, value: float) -> str:
        x = MARGIN + index * step
        y = MARGIN + PLOT_HEIGHT - PLOT_HEIGHT * value / peak
        return f"{x:.1f},{y:.1f}"

    bottom = MARGIN + PLOT_HEIGHT
    parts = [
        f'<line x1="{MARGIN}" y1="{bottom}" x2="{WIDTH - MARGIN}" y2="{bottom}" stroke="#555"/>',
        f'<text x="{MARGIN - 4}" y="{MARGIN + 4}" text-anchor="end">{_number(peak)}</text>',
        f'<text x="{MARGIN - 4}" y="{bottom + 4}" text-anchor="end">0</text>',
    ]
    if x_labels:
        parts.append(f'<text x="{MARGIN}" y="{bottom + 18}">{escape(x_labels[0])}</text>')
        parts.append(
            f'<text x="{WIDTH - MARGIN}" y="{bottom + 18}" text-anchor="end">'
            f"{escape(x_labels[-1])}</text>"
        )
    described = []
    for number, (name, values) in enumerate(series.items()):
        colour, dashes = SERIES_STYLES[number % len(SERIES_STYLES)]
        points = " ".join(point(index, value) for index, value in enumerate(values))
        dash = f' stroke-dasharray="{dashes}"' if dashes else ""
        parts.append(
            f'<g><title>{escape(name)}</title><polyline fill="none" stroke="{colour}" '
            f'stroke-width="2"{dash} points="{points}"/></g>'
        )
        legend_y = bottom + 36 + 16 * number
        parts.append(
            f'<line x1="{MARGIN}" y1="{legend_y - 4}" x2="{MARGIN + 24}" y2="{legend_y - 4}" '
            f'stroke="{colour}" stroke-width="2"{dash}/>'
            f'<text x="{MARGIN + 30}" y="{legend_y}">{escape(name)}</text>'
        )
        total = sum(values)
        described.append(
            f"{name}: {_number(total)} in all, at most {_number(max(values, default=0))} a day"
        )
    height = bottom + 36 + 16 * len(series)
    span = f"from {x_labels[0]} to {x_labels[-1]}. " if x_labels else ""
    description = span + "; ".join(described) if described else "No data."
    return _frame(chart_id, title, description, WIDTH, height, "".join(parts))
