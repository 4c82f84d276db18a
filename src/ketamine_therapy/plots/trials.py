"""Figure of an in-silico trial: mean MADRS course per arm with bands (matplotlib Figure, Agg canvas)."""

from __future__ import annotations

from pathlib import Path

from matplotlib import rcParams
from matplotlib.figure import Figure

from ..pharmacology.trials import TrialResult
from ..services.pk_report import DISCLAIMER
from .figure import FILE_DPI, LABEL_SIZE, LEGEND_SIZE, NOTE_SIZE, TICK_SIZE, TITLE_SIZE, WEB_DPI, figure_png, new_figure


def trial_figure(result: TrialResult) -> Figure:
    """Mean MADRS (points) against days after the first dose for each arm.

    The light band is mean +/- 1 SD between patients, the dark band the 95% interval of the mean.
    """
    fig = new_figure(8.0, 5.6)
    ax = fig.subplots()
    colours = rcParams["axes.prop_cycle"].by_key()["color"]
    for k, arm in enumerate(result.arms):
        colour = colours[k % len(colours)]
        course = arm.course
        low, high = course.ci95()
        ax.fill_between(course.days, course.mean - course.sd, course.mean + course.sd, color=colour, alpha=0.07, lw=0)
        ax.fill_between(course.days, low, high, color=colour, alpha=0.35, lw=0)
        ax.plot(course.days, course.mean, color=colour, lw=2.0, label=f"{arm.name} (n={arm.n:,})")
    ax.set_xlabel("days after the first dose", fontsize=LABEL_SIZE)
    ax.set_ylabel("MADRS (points)", fontsize=LABEL_SIZE)
    ax.set_ylim(bottom=0)
    ax.tick_params(labelsize=TICK_SIZE)
    ax.grid(alpha=0.3)
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.14), ncol=2, fontsize=LEGEND_SIZE, frameon=False,
              title="mean per arm; dark band: 95% CI of the mean, light band: ±1 SD between patients",
              title_fontsize=LEGEND_SIZE)  # fmt: skip
    ax.set_title(result.name, fontsize=TITLE_SIZE)
    fig.text(0.01, 0.005, f"seed {result.seed}, response model {result.response_model_version}. {DISCLAIMER}",
             fontsize=NOTE_SIZE, color="dimgray")  # fmt: skip
    fig.tight_layout(rect=(0, 0.03, 1, 1))
    return fig


def trial_png(result: TrialResult) -> bytes:
    """:func:`trial_figure` as PNG bytes, 800 px wide (for the web)."""
    return figure_png(trial_figure(result), WEB_DPI)


def plot_trial(result: TrialResult, path: Path) -> Path:
    """Mean MADRS (points) against days after the first dose for each arm, saved as PNG (see :func:`trial_figure`)."""
    trial_figure(result).savefig(path, dpi=FILE_DPI)
    return path
