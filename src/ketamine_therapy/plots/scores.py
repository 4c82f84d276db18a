"""A patient's rating-scale totals over time, with the response and remission lines and, where given, the forecast:
its 50% and 90% bands after the last observation and the relapse risk below (PNG, Agg canvas)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from matplotlib.axes import Axes
from matplotlib.figure import Figure

from ..clinic.scales import SCALES
from ..pharmacology.forecast import Forecast
from ..services.pk_report import DISCLAIMER
from .figure import LABEL_SIZE, LEGEND_SIZE, NOTE_SIZE, TICK_SIZE, TITLE_SIZE, WEB_DPI, figure_png, new_figure

MAX_VALUE_LABELS = 16
"""Each point is labelled with its total when there are at most this many points."""
MAX_DATE_TICKS = 8
DATE_TICK_STEPS = (1, 2, 7, 14, 28, 56, 91, 182, 364)  # days: daily, every other day, weekly, ...
SCORE_COLOUR = "#1f4e9c"
RESPONSE_COLOUR = "#d9822b"
REMISSION_COLOUR = "#2e8b57"
BASELINE_COLOUR = "#7a7a7a"
FORECAST_COLOUR = "#6a3d9a"
RISK_COLOUR = "#b2182b"


@dataclass(frozen=True)
class ForecastOverlay:
    """A forecast to draw after the last observation, at clinic-local (naive) times: the median and the 50% (p25-p75)
    and 90% (p05-p95) bands of the predicted score, the relapse risk in percent with the accepted risk, the model's
    latest next session (``None``: none within the horizon) and the model version. Tuples, so it can be a cache key."""

    times: tuple[datetime, ...]
    median: tuple[float, ...]
    p05: tuple[float, ...]
    p25: tuple[float, ...]
    p75: tuple[float, ...]
    p95: tuple[float, ...]
    risk_times: tuple[datetime, ...]
    risk_percent: tuple[float, ...]
    alpha_percent: float
    next_session_by: datetime | None
    model_version: str

    @classmethod
    def of(cls, result: Forecast, start_h: float, local: Callable[[float], datetime]) -> ForecastOverlay:
        """The engine's forecast from ``start_h`` on, its hours turned into local times by ``local``."""
        band, risk = result.band, result.relapse
        keep = [i for i, h in enumerate(band.times_h) if h >= start_h - 1e-9]
        keep_risk = [i for i, h in enumerate(risk.times_h) if h >= start_h - 1e-9]
        next_h = result.booster.next_session_h
        return cls(
            times=tuple(local(float(band.times_h[i])) for i in keep),
            median=tuple(float(band.median[i]) for i in keep), p05=tuple(float(band.p05[i]) for i in keep),
            p25=tuple(float(band.p25[i]) for i in keep), p75=tuple(float(band.p75[i]) for i in keep),
            p95=tuple(float(band.p95[i]) for i in keep),
            risk_times=tuple(local(float(risk.times_h[i])) for i in keep_risk),
            risk_percent=tuple(float(risk.probability[i]) * 100.0 for i in keep_risk),
            alpha_percent=result.booster.alpha * 100.0,
            next_session_by=None if next_h is None else local(next_h), model_version=result.model_version,
        )  # fmt: skip


def score_course_figure(
    points: Sequence[tuple[date, int]],
    scale_id: str,
    baseline: int | None,
    response_line: float | None,
    remission_line: float | None,
    title: str,
    forecast: ForecastOverlay | None = None,
    day_numbers: bool = False,
) -> Figure:
    """Totals of ``scale_id`` by date; dashed lines at ``response_line`` and ``remission_line`` when given.

    ``response_line`` is usually half the ``baseline`` total (a >=50% drop is a response) and
    ``remission_line`` the scale's remission threshold; lower totals are better on every encoded scale.
    ``baseline`` (when given) is drawn as a dotted line. With no points the figure says so. A ``forecast`` adds its
    bands after the last observation and a relapse-risk panel below (the figure is then taller: 800 x 760 px).
    ``day_numbers`` labels the time axis in days after the first date instead of dates (records without a calendar).
    """
    scale = SCALES.get(scale_id)
    scale_name = scale_id if scale is None else scale.id
    course = sorted(points, key=lambda p: p[0])
    fig = new_figure(8.0, FORECAST_HEIGHT_IN if forecast else 5.2)
    if forecast:
        ax, risk_ax = fig.subplots(2, 1, sharex=True, gridspec_kw={"height_ratios": (3.0, 1.15)})
    else:
        ax, risk_ax = fig.subplots(), None
    first = course[0][0] if course else (forecast.times[0].date() if forecast and forecast.times else None)
    x = [(d - course[0][0]).days for d, _ in course]  # days since the first score; ticks are labelled as dates
    span = max(x, default=0)
    if first is not None and risk_ax is not None and forecast and forecast.times:
        span = max(span, int(_day(forecast.times[-1], first)) + 1)
        _draw_forecast(ax, risk_ax, forecast, first, day_numbers)
    if course:
        totals = [t for _, t in course]
        ax.plot(x, totals, color=SCORE_COLOUR, lw=2.2, marker="o", ms=7, label=f"{scale_name} total", zorder=3)
        if len(course) <= MAX_VALUE_LABELS:
            for day, total in zip(x, totals, strict=True):
                ax.annotate(str(total), (day, total), textcoords="offset points", xytext=(0, 9), ha="center",
                            fontsize=TICK_SIZE, color=SCORE_COLOUR, fontweight="bold", zorder=4)  # fmt: skip
    if first is not None:
        span = max(span, 6)  # at least a week wide, so that one point is not alone
        pad = max(1.0, span * 0.04)
        ax.set_xlim(-pad, span + pad)
        ticks = _date_ticks(span)
        bottom = risk_ax if risk_ax is not None else ax
        if day_numbers:
            bottom.set_xticks(ticks, [str(t) for t in ticks])
            bottom.set_xlabel("days after the first record", fontsize=LABEL_SIZE)
        else:
            bottom.set_xticks(ticks, [(first + timedelta(days=t)).strftime("%d %b") for t in ticks])
            years = sorted({first.year, (first + timedelta(days=span)).year})
            bottom.set_xlabel(f"date ({'-'.join(str(y) for y in years)})", fontsize=LABEL_SIZE)
    if not course:
        if first is None:
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
    values = [t for _, t in course] + [v for v, *_ in lines if v is not None] + list(forecast.p95 if forecast else ())
    top = high if high is not None else max([*values, 1]) * 1.15
    ax.set_ylim(low, top + max(1.0, 0.06 * (top - low)))

    ax.set_ylabel(f"{scale_name} total" + ("" if high is None else f" ({low}-{high})"), fontsize=LABEL_SIZE)
    ax.tick_params(labelsize=TICK_SIZE)
    ax.grid(alpha=0.3)
    if risk_ax is not None:  # one legend for both panels, below the figure, so it never hides a point
        handles = [h for a in (ax, risk_ax) for h in a.get_legend_handles_labels()[0]]
        labels = [label for a in (ax, risk_ax) for label in a.get_legend_handles_labels()[1]]
        fig.legend(handles, labels, loc="lower center", bbox_to_anchor=(0.5, 0.045), ncol=2, fontsize=LEGEND_SIZE,
                   frameon=False)  # fmt: skip
    elif ax.get_legend_handles_labels()[0]:  # below the plot, so it never hides a point
        ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.2 if course else -0.05), ncol=2,
                  fontsize=LEGEND_SIZE, frameon=False)  # fmt: skip
    ax.set_title(title, fontsize=TITLE_SIZE)
    note = f"Lower is better. {DISCLAIMER}"
    if forecast:
        note = f"Forecast model: {forecast.model_version}.\n{note}"
    fig.text(0.01, 0.005, note, fontsize=NOTE_SIZE, color="dimgray")
    fig.tight_layout(rect=(0, 0.2, 1, 1) if forecast else (0, 0.03, 1, 1))
    return fig


FORECAST_HEIGHT_IN = 7.6
"""Height of the figure with a forecast (inches; 760 px on the web)."""


def _day(at: datetime, first: date) -> float:
    """Days (fractional) from the start of ``first`` to the local time ``at``."""
    return (at - datetime.combine(first, time())) / timedelta(days=1)


def _draw_forecast(ax: Axes, risk_ax: Axes, forecast: ForecastOverlay, first: date, day_numbers: bool) -> None:
    """The forecast's bands on ``ax`` and its relapse risk on ``risk_ax``, from where the forecast starts."""
    x = [_day(t, first) for t in forecast.times]
    ax.fill_between(x, forecast.p05, forecast.p95, color=FORECAST_COLOUR, alpha=0.14, lw=0,
                    label="forecast: 90% of likely scores")  # fmt: skip
    ax.fill_between(x, forecast.p25, forecast.p75, color=FORECAST_COLOUR, alpha=0.30, lw=0,
                    label="forecast: 50% of likely scores")  # fmt: skip
    ax.plot(x, forecast.median, color=FORECAST_COLOUR, lw=1.8, ls="--", label="forecast: median", zorder=2)
    for a in (ax, risk_ax):
        a.axvline(x[0], color="dimgray", lw=1.0, ls=":", zorder=1)
    ax.annotate("forecast →", (x[0], 1.0), xycoords=("data", "axes fraction"), xytext=(4, -14),
                textcoords="offset points", fontsize=TICK_SIZE, color="dimgray")  # fmt: skip
    risk_x = [_day(t, first) for t in forecast.risk_times]
    risk_ax.plot(risk_x, forecast.risk_percent, color=RISK_COLOUR, lw=2.0, label="risk of relapse by this date (%)")
    risk_ax.axhline(forecast.alpha_percent, color=RISK_COLOUR, lw=1.2, ls="--",
                    label=f"accepted risk before the next session: {forecast.alpha_percent:g}%")  # fmt: skip
    if forecast.next_session_by is not None:
        when = _day(forecast.next_session_by, first)
        by = f"day {when:.0f}" if day_numbers else forecast.next_session_by.strftime("%d %b")
        label = f"model: next session by {by}"
        for a in (ax, risk_ax):
            a.axvline(when, color=RISK_COLOUR, lw=1.6, ls="-.", label=label if a is risk_ax else None, zorder=2)
    risk_ax.set_ylim(0, 100)
    risk_ax.set_yticks([0, 25, 50, 75, 100])
    risk_ax.set_ylabel("relapse risk (%)", fontsize=LABEL_SIZE)
    risk_ax.tick_params(labelsize=TICK_SIZE)
    risk_ax.grid(alpha=0.3)


def score_course_png(
    points: Sequence[tuple[date, int]],
    scale_id: str,
    baseline: int | None,
    response_line: float | None,
    remission_line: float | None,
    title: str,
    forecast: ForecastOverlay | None = None,
) -> bytes:
    """:func:`score_course_figure` as PNG bytes, 800 px wide (for the web)."""
    figure = score_course_figure(points, scale_id, baseline, response_line, remission_line, title, forecast)
    return figure_png(figure, WEB_DPI)


def _date_ticks(span_days: int) -> list[int]:
    """Ticks (days after the first score): at most ``MAX_DATE_TICKS``, a round step apart (1 d, 2 d, 7 d...)."""
    step = next((s for s in DATE_TICK_STEPS if span_days / s <= MAX_DATE_TICKS - 1), DATE_TICK_STEPS[-1])
    return list(range(0, span_days + 1, step))


def _fmt(value: float | None) -> str:
    return "" if value is None else f"{value:g}"
