"""The score-course chart: PNG bytes, legible size, inputs change the picture, safe from several threads."""

from __future__ import annotations

import io
import struct
from concurrent.futures import ThreadPoolExecutor
from datetime import date, datetime, time, timedelta

import pytest

from ketamine_therapy.plots.scores import ForecastOverlay, score_course_figure, score_course_png

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
START = date(2025, 3, 3)
COURSE = [(START + timedelta(days=d), t) for d, t in [(0, 22), (2, 18), (4, 13), (7, 10), (14, 5), (28, 7)]]


BASE: dict[str, object] = {"points": COURSE, "scale_id": "PHQ-9", "baseline": 22, "response_line": 11.0,
                           "remission_line": 4.0, "title": "PHQ-9 course"}  # fmt: skip


@pytest.fixture(scope="module")
def reference() -> bytes:
    return score_course_png(**BASE)  # type: ignore[arg-type]


def png_size(data: bytes) -> tuple[int, int]:
    """(width, height) in pixels from the IHDR chunk."""
    assert data[12:16] == b"IHDR"
    width, height = struct.unpack(">II", data[16:24])
    return int(width), int(height)


def test_a_course_is_a_png_800_px_wide() -> None:
    data = score_course_png(COURSE, "PHQ-9", 22, 11.0, 4.0, "PHQ-9 course")
    assert data.startswith(PNG_SIGNATURE)
    assert len(data) > 10_000
    width, height = png_size(data)
    assert width == 800
    assert 400 <= height <= 600


@pytest.mark.parametrize(
    "changes",
    [
        {"points": COURSE[:-1]},
        {"points": [(START, 22)]},
        {"points": []},
        {"scale_id": "MADRS"},
        {"baseline": None},
        {"response_line": None},
        {"remission_line": 6.0},
        {"title": "another title"},
    ],
)
def test_different_inputs_give_different_images(changes: dict[str, object], reference: bytes) -> None:
    changed = score_course_png(**{**BASE, **changes})  # type: ignore[arg-type]
    assert changed.startswith(PNG_SIGNATURE)
    assert changed != reference


def test_the_same_inputs_give_the_same_image_also_from_several_threads() -> None:
    args = (COURSE, "MADRS", 30, 15.0, 9.0, "MADRS course")
    serial = score_course_png(*args)
    assert score_course_png(*args) == serial
    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(lambda _: score_course_png(*args), range(4)))
    assert all(r == serial for r in results)


def test_unordered_points_an_unknown_scale_and_a_long_course_still_draw() -> None:
    long_course = [(START + timedelta(days=3 * k), 20 - (k % 15)) for k in range(120)]  # a year, no value labels
    for points, scale in ((COURSE[::-1], "PHQ-9"), (long_course, "HAM-D"), (COURSE, "C-SSRS")):
        data = score_course_png(points, scale, None, None, None, "course")
        assert data.startswith(PNG_SIGNATURE)
        assert png_size(data)[0] == 800
    assert score_course_png(COURSE[::-1], "PHQ-9", 22, 11.0, 4.0, "t") == score_course_png(
        COURSE, "PHQ-9", 22, 11.0, 4.0, "t"
    )


def test_the_png_decodes() -> None:
    matplotlib_image = pytest.importorskip("matplotlib.image")
    pixels = matplotlib_image.imread(io.BytesIO(score_course_png(COURSE, "PHQ-9", 22, 11.0, 4.0, "t")), format="png")
    assert pixels.shape[1] == 800
    assert pixels.shape[2] in (3, 4)


def _overlay(alpha_percent: float = 20.0) -> ForecastOverlay:
    start = datetime.combine(COURSE[-1][0], time(9))
    times = tuple(start + timedelta(days=d) for d in range(0, 57, 7))
    median = tuple(7.0 + d for d in range(len(times)))
    return ForecastOverlay(times, median, tuple(m - 4 for m in median), tuple(m - 2 for m in median),
                           tuple(m + 2 for m in median), tuple(m + 4 for m in median), times,
                           tuple(10.0 * k for k in range(len(times))), alpha_percent, start + timedelta(days=14),
                           "test model 1")  # fmt: skip


def test_a_forecast_adds_its_band_and_the_relapse_risk_panel() -> None:
    figure = score_course_figure(COURSE, "PHQ-9", 22, 11.0, 4.0, "PHQ-9 course", _overlay())
    scores, risk = figure.axes
    labels = [text for ax in (scores, risk) for text in ax.get_legend_handles_labels()[1]]
    assert "forecast: 90% of likely scores" in labels
    assert "forecast: 50% of likely scores" in labels
    assert "accepted risk before the next session: 20%" in labels
    assert any(label.startswith("model: next session by") for label in labels)
    assert risk.get_ylim() == (0.0, 100.0)
    assert scores.get_xlim()[1] >= 28 + 56  # the axis runs to the end of the forecast
    data = score_course_png(COURSE, "PHQ-9", 22, 11.0, 4.0, "PHQ-9 course", _overlay())
    assert png_size(data) == (800, 760)
    assert data != score_course_png(COURSE, "PHQ-9", 22, 11.0, 4.0, "PHQ-9 course", _overlay(10.0))
