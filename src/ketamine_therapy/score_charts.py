"""A patient's rating-scale totals over time, with the response and remission lines (PNG, Agg canvas)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta

from matplotlib.figure import Figure

from .charts import LABEL_SIZE, LEGEND_SIZE, NOTE_SIZE, TICK_SIZE, TITLE_SIZE, WEB_DPI, figure_png, new_figure
from .clinic.scales import SCALES
from .services.pk_report import DISCLAIMER

MAX_VALUE_LABELS = 16
"""Each point is labelled with its total when there are at most this many points."""
MAX_DATE_TICKS = 8
DATE_TICK_STEPS = (1, 2, 7, 14, 28, 56, 91, 182, 364)  # days: daily, every other day, weekly, ...
SCORE_COLOUR = "#1f4e9c"
RESPONSE_COLOUR = "#d9822b"
REMISSION_COLOUR = "#2e8b57"
BASELINE_COLOUR = "#7a7a7a"


def score_course_figure(
    points: Sequence[tuple[date, int]],
    scale_id: str,
    baseline: int | None,
    response_line: float | None,
    remission_line: float | None,
    title: str,
) -> Figure:
    """Totals of ``scale_id`` by date; dashed lines at ``response_line`` and ``remission_line`` when given.

    ``response_line`` is usually half the ``baseline`` total (a >=50% drop is a response) and
    ``remission_line`` the scale's remission threshold; lower totals are better on every encoded scale.
    ``baseline`` (when given) is drawn as a dotted line. With no points the figure says so.
    """
    scale = SCALES.get(scale_id)
    scale_name = scale_id if scale is None else scale.id
    course = sorted(points, key=lambda p: p[0])
    fig = new_figure(8.0, 5.2)
    ax = fig.subplots()
    if course:
        first = course[0][0]
        x = [(d - first).days for d, _ in course]  # days since the first score; ticks are labelled as dates
        totals = [t for _, t in course]
        ax.plot(x, totals, color=SCORE_COLOUR, lw=2.2, marker="o", ms=7, label=f"{scale_name} total", zorder=3)
        if len(course) <= MAX_VALUE_LABELS:
            for day, total in zip(x, totals, strict=True):
                ax.annotate(str(total), (day, total), textcoords="offset points", xytext=(0, 9), ha="center",
                            fontsize=TICK_SIZE, color=SCORE_COLOUR, fontweight="bold", zorder=4)  # fmt: skip
        span = max(x[-1], 6)  # at least a week wide, so that one point is not alone
        pad = max(1.0, span * 0.04)
        ax.set_xlim(-pad, span + pad)
        ticks = _date_ticks(span)
        ax.set_xticks(ticks, [(first + timedelta(days=t)).strftime("%d %b") for t in ticks])
        years = sorted({first.year, course[-1][0].year})
        ax.set_xlabel(f"date ({'-'.join(str(y) for y in years)})", fontsize=LABEL_SIZE)
    else:
        ax.set_xticks([])
        ax.text(0.5, 0.5, "no scores recorded yet", transform=ax.transAxes, ha="center", va="center",
                fontsize=LABEL_SIZE + 1, color="dimgray")  # fmt: skip

    lines = [
        (baseline, f"baseline {_fmt(baseline)}", BASELINE_COLOUR, ":"),
        (response_line, f"response (50% of baseline): ≤ {_fmt(response_line)}", RESPONSE_COLOUR, "--"),
        (remission_line, f"remission: ≤ {_fmt(remission_line)}", REMISSION_COLOUR, "--"),
    ]
    for value, label, colour, style in lines:
        if value is not None:
            ax.axhline(value, color=colour, lw=1.8, ls=style, label=label, zorder=2)

    low, high = (0, None) if scale is None or scale.total_range is None else scale.total_range
    values = [t for _, t in course] + [v for v, *_ in lines if v is not None]
    top = high if high is not None else max([*values, 1]) * 1.15
    ax.set_ylim(low, top + max(1.0, 0.06 * (top - low)))

    ax.set_ylabel(f"{scale_name} total" + ("" if high is None else f" ({low}-{high})"), fontsize=LABEL_SIZE)
    ax.tick_params(labelsize=TICK_SIZE)
    ax.grid(alpha=0.3)
    if ax.get_legend_handles_labels()[0]:  # below the plot, so it never hides a point
        ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.2 if course else -0.05), ncol=2,
                  fontsize=LEGEND_SIZE, frameon=False)  # fmt: skip
    ax.set_title(title, fontsize=TITLE_SIZE)
    fig.text(0.01, 0.005, f"Lower is better. {DISCLAIMER}", fontsize=NOTE_SIZE, color="dimgray")
    fig.tight_layout(rect=(0, 0.03, 1, 1))
    return fig


def score_course_png(
    points: Sequence[tuple[date, int]],
    scale_id: str,
    baseline: int | None,
    response_line: float | None,
    remission_line: float | None,
    title: str,
) -> bytes:
    """:func:`score_course_figure` as PNG bytes, 800 px wide (for the web)."""
    return figure_png(score_course_figure(points, scale_id, baseline, response_line, remission_line, title), WEB_DPI)


def _date_ticks(span_days: int) -> list[int]:
    """Ticks (days after the first score): at most ``MAX_DATE_TICKS``, a round step apart (1 d, 2 d, 7 d...)."""
    step = next((s for s in DATE_TICK_STEPS if span_days / s <= MAX_DATE_TICKS - 1), DATE_TICK_STEPS[-1])
    return list(range(0, span_days + 1, step))


def _fmt(value: float | None) -> str:
    return "" if value is None else f"{value:g}"
