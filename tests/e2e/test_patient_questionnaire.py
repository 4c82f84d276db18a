"""A patient fills a PHQ-9 from a link on a phone; item 9 > 0 shows crisis resources and flags the chart.

The prescriber creates the link on the chart (tablet, 1024x768), logs out; the patient opens it in a fresh
phone-sized context (390x844) without logging in, answers item 9 = 1 and sees the 988 message; the link then
no longer works; the prescriber logs in again and sees the flag and the new score on the chart and the dashboard.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

from playwright.sync_api import Browser, Page, expect

from .conftest import LiveServer

PHONE = {"width": 390, "height": 844}
ANSWERS = (2, 1, 2, 1, 1, 0, 1, 0, 1)  # item 9 = 1: "several days"
Shot = Callable[[Page, str], Path]


def log_in(page: Page, server: LiveServer, role: str) -> None:
    username, password = server.login(role)
    page.goto(server.url("/login"))
    expect(page.get_by_text("Decision-support software, not a medical device").first).to_be_visible()
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("button", name="Log out")).to_be_visible()


def test_patient_fills_phq9_from_a_link_and_the_prescriber_sees_the_flag(
    page: Page, browser: Browser, live_server: LiveServer, shot: Shot
) -> None:
    # the prescriber opens a chart and creates a PHQ-9 link
    log_in(page, live_server, "prescriber")
    shot(page, "q01-dashboard-before")
    page.goto(live_server.url("/patients"))
    first = page.locator("table a[href^='/patients/']").first
    name = first.inner_text()
    first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text(name)
    chart_url = page.url
    page.locator("#questionnaire").scroll_into_view_if_needed()
    page.get_by_label("Questionnaire", exact=True).select_option("PHQ-9")
    page.get_by_role("button", name="Create link").click()
    link_box = page.locator("#link-url")
    expect(link_box).to_be_visible()
    link = link_box.input_value()
    assert re.fullmatch(re.escape(live_server.base_url) + r"/q/[A-Za-z0-9_-]{20,}", link), link
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_server.base_url)
    page.get_by_role("button", name="Copy link").click()
    expect(page.locator("#link-box .copied")).to_have_text("Copied")
    assert page.evaluate("navigator.clipboard.readText()") == link
    shot(page, "q02-chart-link-created")
    page.get_by_role("button", name="Log out").click()
    expect(page.get_by_role("heading", name="Log in")).to_be_visible()

    # the patient, on a phone, in a fresh browser context without any login
    phone = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True)
    try:
        patient = phone.new_page()
        patient.goto(link)
        expect(patient.get_by_role("heading", name="PHQ-9 questionnaire")).to_be_visible()
        expect(patient.get_by_text("Your answers are not monitored in real time.")).to_be_visible()
        expect(patient.get_by_text("988 Suicide & Crisis Lifeline").first).to_be_visible()
        assert name.split(",")[0] not in patient.content()  # no patient name on the patient's pages
        expect(patient.get_by_text("Thoughts that you would be better off dead")).to_be_visible()
        shot(patient, "q03-phone-questionnaire")
        patient.get_by_role("button", name="Send my answers").click()  # nothing answered yet
        expect(patient.get_by_role("alert")).to_contain_text("Please answer every question")
        for number, value in enumerate(ANSWERS, start=1):
            patient.locator(f"input[name='item{number}'][value='{value}']").check()
        shot(patient, "q04-phone-answered")
        patient.get_by_role("button", name="Send my answers").click()
        crisis = patient.locator("#crisis")
        expect(crisis).to_be_visible()
        expect(crisis).to_contain_text("Call or text 988")
        expect(crisis).to_contain_text("911")
        expect(crisis).to_contain_text("741741")
        expect(patient.get_by_role("heading", name="Thank you")).to_be_visible()
        shot(patient, "q05-phone-thank-you-crisis")
        patient.goto(link)  # single use
        expect(patient.get_by_role("heading", name="This link cannot be used")).to_be_visible()
        shot(patient, "q06-phone-link-used")
    finally:
        phone.close()

    # the prescriber sees the flag and the new score on the chart and on the dashboard
    log_in(page, live_server, "prescriber")
    page.goto(chart_url)
    flags = page.locator("#flags .flag-panel")
    expect(flags).to_be_visible()
    expect(flags).to_contain_text("PHQ-9 item 9")
    expect(flags).to_contain_text(f"total {sum(ANSWERS)}")
    expect(page.locator("img[src$='/chart/PHQ-9.png']")).to_be_visible()
    shot(page, "q07-chart-flagged")
    page.goto(live_server.url("/"))
    panel = page.locator(".flag-panel")
    expect(panel).to_be_visible()
    row = panel.locator("tr", has_text=name)
    expect(row).to_contain_text("PHQ-9")
    expect(row).to_contain_text(str(sum(ANSWERS)))
    expect(row).to_contain_text("patient (questionnaire link)")
    shot(page, "q08-dashboard-flagged")
