"""Figures rendered server-side with matplotlib (Agg backend, no display needed)."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

from .services.pk_report import DISCLAIMER, PKReport


def plot_pk_report(report: PKReport, path: Path) -> Path:
    """Concentration-time curves of every analyte (typical subject, 5-95% band), saved as PNG."""
    times = report.typical.times_h
    analytes = report.typical.analytes
    fig, axes = plt.subplots(len(analytes), 1, figsize=(9, 3.2 * len(analytes)), sharex=True, squeeze=False)
    scale, label = (24.0, "days after first dose") if times[-1] > 72 else (1.0, "hours after first dose")
    for ax, analyte in zip(axes[:, 0], analytes, strict=True):
        curves = report.population_curves.get(analyte)
        if curves:
            ax.fill_between(times / scale, curves["p5"], curves["p95"], alpha=0.25, color="tab:blue",
                            label=f"5-95% of {report.scenario.n:,} subjects")  # fmt: skip
            ax.plot(times / scale, curves["p50"], color="tab:blue", lw=1, ls="--", label="median")
        ax.plot(
            times / scale,
            report.typical.conc_ng_ml[analyte][0],
            color="black",
            lw=1.5,
            label="typical subject",
        )
        ax.set_ylabel(f"{analyte} (ng/mL)")
        ax.grid(alpha=0.3)
        ax.legend(loc="upper right", fontsize=8)
    axes[-1, 0].set_xlabel(label)
    fig.suptitle(f"{report.model.drug} - {report.model.id}", fontsize=11)
    fig.text(0.01, 0.005, DISCLAIMER, fontsize=7, color="gray")
    fig.tight_layout(rect=(0, 0.02, 1, 1))
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
