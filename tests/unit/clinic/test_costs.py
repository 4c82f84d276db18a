"""Costs: prices, coverage, billing codes and course cost in Decimal.

Sources are rows of docs/references/clinical.md §1e ('Costs, coding and coverage').
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
import yaml

from ketamine_therapy.clinic.costs import (
    PUBLISHED_PRICE_RANGES_USD,
    Coverage,
    DeliveredSession,
    PriceList,
    SessionKind,
    billing_codes,
    cost_per_outcome,
    course_cost,
    estimate_plan_cost,
)
from ketamine_therapy.clinic.exceptions import InvalidAnswerError

PRICES = PriceList(
    {"iv": Decimal(450), "im": Decimal(425), "esketamine-56mg": Decimal("590.00"), "esketamine-84mg": Decimal(885)}
)
COMMERCIAL = Coverage("commercial", prior_authorization_approved=True, patient_coinsurance=Decimal("0.2"))
PRICES_YAML = Path(__file__).parents[3] / "src/ketamine_therapy/pharmacology/data/prices.yaml"


def codes(kind: SessionKind, payer: str = "medicare", **kw: int | str) -> list[str]:
    return [c.code for c in billing_codes(kind, payer, **kw)]  # type: ignore[arg-type]


def test_billing_codes_per_session_kind() -> None:
    """G2082 ≤56 mg, G2083 >56 mg (Medicare); J0013 (+ E/M + 99415/99416) outside Medicare; 96365/96366 IV."""
    assert codes("esketamine-56mg") == ["G2082"]
    assert codes("esketamine-84mg") == ["G2083"]
    assert codes("esketamine-84mg", "commercial") == ["J0013"]
    assert codes("esketamine-84mg", "commercial", em_code="99215") == ["J0013", "99215", "99415", "99416"]
    [j0013] = [c for c in billing_codes("esketamine-84mg", "commercial") if c.code == "J0013"]
    assert j0013.units == 84
    assert codes("iv") == ["96365"]
    assert codes("iv", infusion_minutes=15) == ["96374"]
    assert codes("iv", infusion_minutes=100) == ["96365", "96366"]
    assert codes("im") == []
    assert all("clinical.md" in c.source for k in PRICES.prices for c in billing_codes(k, "commercial"))
    with pytest.raises(InvalidAnswerError, match="infusion_minutes"):
        billing_codes("iv", "medicare", infusion_minutes=0)


def test_estimate_arithmetic_in_decimal() -> None:
    est = estimate_plan_cost({"esketamine-56mg": 4, "esketamine-84mg": 4, "iv": 2}, PRICES, COMMERCIAL)
    assert est.total == Decimal("6800.00")
    esk = Decimal(4 * 590 + 4 * 885)
    assert est.patient_out_of_pocket == esk * Decimal("0.2") + 900
    assert est.insurer == esk * Decimal("0.8")
    assert est.total == est.patient_out_of_pocket + est.insurer
    assert all(isinstance(v, Decimal) for v in (est.total, est.patient_out_of_pocket, est.insurer))
    [line] = [ln for ln in est.lines if ln.kind == "iv"]
    assert (line.count, line.unit_price, line.total, line.insurer) == (2, Decimal(450), Decimal(900), Decimal(0))
    assert [c.code for c in line.billing_codes] == ["96365"]


def test_esketamine_insured_iv_self_pay() -> None:
    """Spravato covered with prior auth ('Coverage'); IV insurance generally does not cover ('IV ketamine price')."""
    esk = estimate_plan_cost({"esketamine-56mg": 1}, PRICES, COMMERCIAL)
    assert esk.insurer == Decimal("472.00")
    assert esk.patient_out_of_pocket == Decimal("118.00")
    iv = estimate_plan_cost({"iv": 1}, PRICES, COMMERCIAL)
    assert (iv.insurer, iv.patient_out_of_pocket) == (Decimal(0), Decimal(450))
    no_pa = Coverage("medicare", prior_authorization_approved=False, patient_coinsurance=Decimal("0.2"))
    assert estimate_plan_cost({"esketamine-56mg": 1}, PRICES, no_pa).insurer == 0
    self_pay = estimate_plan_cost({"esketamine-84mg": 1}, PRICES)
    assert self_pay.patient_out_of_pocket == Decimal(885)
    assert self_pay.lines[0].billing_codes[0].code == "J0013"


def test_unknown_coverage_and_price_must_be_set() -> None:
    """clinical.md has no IM coverage rule and only price ranges: the clinic must set them."""
    with pytest.raises(InvalidAnswerError, match=r"rules\[im\]"):
        estimate_plan_cost({"im": 1}, PRICES, COMMERCIAL)
    with pytest.raises(InvalidAnswerError, match=r"prices\[iv\]"):
        estimate_plan_cost({"iv": 1}, PriceList({}))
    with pytest.raises(InvalidAnswerError):
        PriceList({"iv": Decimal(-1)})
    with pytest.raises(InvalidAnswerError):
        Coverage("commercial", prior_authorization_approved=True, patient_coinsurance=Decimal("1.5"))
    with pytest.raises(InvalidAnswerError):
        estimate_plan_cost({"iv": -1}, PRICES)


def test_course_cost_groups_actual_sessions() -> None:
    sessions = [DeliveredSession("iv"), DeliveredSession("iv", infusion_minutes=100), DeliveredSession("im")]
    est = course_cost(sessions, PRICES)
    assert est.total == Decimal(450 * 2 + 425)
    assert sorted((ln.kind, ln.count, len(ln.billing_codes)) for ln in est.lines) == [
        ("im", 1, 0),
        ("iv", 1, 1),
        ("iv", 1, 2),
    ]


def test_cost_per_outcome() -> None:
    assert cost_per_outcome(Decimal(1000), 3) == Decimal("333.33")
    with pytest.raises(InvalidAnswerError):
        cost_per_outcome(Decimal(1000), 0)


def test_published_ranges_and_trial_prices_agree() -> None:
    """prices.yaml's trial defaults (IV 450, IM 425) lie within clinical.md's published ranges."""
    trial = yaml.safe_load(PRICES_YAML.read_text())["prices"]
    assert PriceList({k: Decimal(trial[k]["value"]) for k in ("iv", "im")}).outside_published_ranges() == ()
    assert PriceList({"iv": Decimal(2000)}).outside_published_ranges() == ("iv",)
    assert set(PUBLISHED_PRICE_RANGES_USD) == {"iv", "im"}
