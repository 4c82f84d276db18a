"""Figure of an in-silico trial: mean MADRS course per arm with bands (matplotlib, Agg backend)."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

from .pharmacology.trials import TrialResult
from .services.pk_report import DISCLAIMER


def plot_trial(result: TrialResult, path: Path) -> Path:
    """Mean MADRS (points) against days after the first dose for each arm, saved as PNG.

    The light band is mean +/- 1 SD between patients, the dark band the 95% interval of the mean.
    """
    fig, ax = plt.subplots(figsize=(9, 4.8))
    colours = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    for k, arm in enumerate(result.arms):
        colour = colours[k % len(colours)]
        course = arm.course
        low, high = course.ci95()
        ax.fill_between(course.days, course.mean - course.sd, course.mean + course.sd, color=colour, alpha=0.12, lw=0)
        ax.fill_between(course.days, low, high, color=colour, alpha=0.35, lw=0)
        ax.plot(course.days, course.mean, color=colour, lw=1.6, label=f"{arm.name} (n={arm.n:,})")
    ax.set_xlabel("days after the first dose")
    ax.set_ylabel("MADRS (points)")
    ax.set_ylim(bottom=0)
    ax.grid(alpha=0.3)
    ax.legend(loc="upper right", fontsize=8, title="mean; bands: 95% CI, ±1 SD", title_fontsize=8)
    ax.set_title(f"{result.name} (seed {result.seed}, response model {result.response_model_version})", fontsize=11)
    fig.text(0.01, 0.005, DISCLAIMER, fontsize=7, color="gray")
    fig.tight_layout(rect=(0, 0.03, 1, 1))
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
