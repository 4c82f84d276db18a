"""A prescriber opens a treated patient's chart on a tablet and sees the forecast: the band and relapse risk drawn on
the MADRS chart, the model's booster advice beside the clinic's rules, how much the patient's data moved the
forecast, the model version and the decision-support notice. The forecast section arrives after the page (htmx)."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

from playwright.sync_api import Page, expect

from .conftest import SCREENSHOTS, LiveServer
from .test_patient_questionnaire import log_in

Shot = Callable[[Page, str], Path]


def _treated_chart(page: Page, server: LiveServer) -> str:
    """The URL of the first chart (by the patient list) with a discharged session and a MADRS chart."""
    page.goto(server.url("/patients"))
    links = page.locator("table a[href^='/patients/']").evaluate_all("els => els.map(e => e.getAttribute('href'))")
    for href in links:
        page.goto(server.url(href))
        if page.locator("#sessions .badge.discharged").count() and page.locator("img[src$='/chart/MADRS.png']").count():
            return str(href)
    raise AssertionError("no treated patient in the demo clinic")


def test_a_prescriber_sees_the_forecast_band_and_the_booster_advice(page: Page, live_server: LiveServer,
                                                                     shot: Shot) -> None:  # fmt: skip
    log_in(page, live_server, "prescriber")
    chart = _treated_chart(page, live_server)
    forecast = page.locator("#forecast")
    expect(forecast.get_by_role("heading", name="Model: next session")).to_be_visible(timeout=30_000)
    expect(forecast.get_by_role("heading", name="Clinic rules")).to_be_visible()
    expect(forecast).to_contain_text(
        re.compile(r"(keeps the risk of relapse before it at or below|stays at or below|already above)\s+20%")
    )
    expect(forecast.get_by_role("heading", name="How much this patient's data moved the forecast")).to_be_visible()
    expect(forecast).to_contain_text("response-model")
    expect(forecast).to_contain_text("not a medical device")
    expect(forecast.locator("table")).to_contain_text("booster in 1 week")

    image = page.locator("img[src$='/chart/MADRS.png']")
    image.scroll_into_view_if_needed()
    page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=image.element_handle())
    assert image.evaluate("img => [img.naturalWidth, img.naturalHeight]") == [800, 760]  # with the forecast panel
    box = image.bounding_box()
    assert box is not None
    assert box["width"] <= 1024  # fits the tablet's width
    shot(page, "forecast-01-chart")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    image.screenshot(path=str(SCREENSHOTS / "forecast-02-score-chart.png"))
    forecast.screenshot(path=str(SCREENSHOTS / "forecast-03-section.png"))
    assert page.url.endswith(chart)
