"""The figures' common frame: rendered server-side with matplotlib (Agg backend, no display needed).

Figures are built as :class:`matplotlib.figure.Figure` objects drawn by ``FigureCanvasAgg``, never through
pyplot's global state, so web requests can draw them from several threads at once.
"""

from __future__ import annotations

import io

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

WEB_DPI = 100
"""PNGs for the web are 8 in x 100 dpi = 800 px wide: legible on a tablet without scaling."""
FILE_DPI = 110
# Font sizes (points) chosen to stay legible when the figure is shown 800 px wide.
TITLE_SIZE = 13
LABEL_SIZE = 11
TICK_SIZE = 10
LEGEND_SIZE = 9.5
NOTE_SIZE = 8.5


def new_figure(width_in: float, height_in: float) -> Figure:
    """A figure with its own Agg canvas (thread-safe: no pyplot state)."""
    fig = Figure(figsize=(width_in, height_in))
    FigureCanvasAgg(fig)
    return fig


def figure_png(fig: Figure, dpi: int = WEB_DPI) -> bytes:
    """``fig`` rendered as PNG bytes."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi)
    return buffer.getvalue()
