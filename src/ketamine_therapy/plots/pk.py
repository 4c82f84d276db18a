"""The PK report figure: concentration and NMDA-occupancy curves of a simulated scenario."""

from __future__ import annotations

from pathlib import Path

from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from ..services.pk_report import DISCLAIMER, PKReport
from .figure import FILE_DPI, LABEL_SIZE, LEGEND_SIZE, NOTE_SIZE, TICK_SIZE, TITLE_SIZE, WEB_DPI, figure_png, new_figure


def pk_report_figure(report: PKReport) -> Figure:
    """Concentration-time curves of every analyte: typical subject, population median and 5-95% band."""
    times = report.typical.times_h
    analytes = report.typical.analytes
    fig = new_figure(8.0, 2.9 * len(analytes) + 0.7)
    axes = fig.subplots(len(analytes), 1, sharex=True, squeeze=False)
    scale, label = (24.0, "days after first dose") if times[-1] > 72 else (1.0, "hours after first dose")
    for ax, analyte in zip(axes[:, 0], analytes, strict=True):
        curves = report.population_curves.get(analyte)
        if curves:
            ax.fill_between(times / scale, curves["p5"], curves["p95"], alpha=0.25, color="tab:blue",
                            label=f"5-95% of {report.scenario.n:,} subjects")  # fmt: skip
            ax.plot(times / scale, curves["p50"], color="tab:blue", lw=1.3, ls="--", label="median")
        ax.plot(
            times / scale,
            report.typical.conc_ng_ml[analyte][0],
            color="black",
            lw=1.8,
            label="typical subject",
        )
        ax.set_ylabel(f"{analyte} (ng/mL)", fontsize=LABEL_SIZE)
        ax.set_ylim(bottom=0)
        ax.set_xlim(times[0] / scale, times[-1] / scale)
        ax.xaxis.set_major_locator(MaxNLocator(nbins=12, steps=[1, 2, 3, 4, 6, 10]))
        ax.tick_params(labelsize=TICK_SIZE)
        ax.grid(alpha=0.3)
        ax.legend(loc="upper right", fontsize=LEGEND_SIZE)
    axes[-1, 0].set_xlabel(label, fontsize=LABEL_SIZE)
    fig.suptitle(f"{report.model.drug} - {report.model.id}", fontsize=TITLE_SIZE)
    fig.text(0.01, 0.005, DISCLAIMER, fontsize=NOTE_SIZE, color="dimgray")
    fig.tight_layout(rect=(0, 0.025, 1, 1))
    return fig


def pk_report_png(report: PKReport) -> bytes:
    """:func:`pk_report_figure` as PNG bytes, 800 px wide (for the web)."""
    return figure_png(pk_report_figure(report), WEB_DPI)


def plot_pk_report(report: PKReport, path: Path) -> Path:
    """Concentration-time curves of every analyte (typical subject, 5-95% band), saved as PNG."""
    pk_report_figure(report).savefig(path, dpi=FILE_DPI)
    return path
