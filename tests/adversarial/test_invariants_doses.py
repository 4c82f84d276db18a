"""Hard invariants in the domain (issue 10): every number finite, and an absolute ceiling per drug and route that
no clinic limit and no override can pass; an override moves only between the clinic's limit and that ceiling."""

from __future__ import annotations

import math
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from ketamine_therapy.clinic.exceptions import InvalidAnswerError
from ketamine_therapy.clinic.sessions import (
    ABSOLUTE_CEILINGS,
    DoseLimits,
    EsketamineDose,
    ImDose,
    IvDose,
    Override,
    SessionKind,
    SessionState,
    check_in,
    new_session,
    start_dosing,
)
from ketamine_therapy.services import treatment
from ketamine_therapy.services.audit import audit_entries
from ketamine_therapy.services.demo_clinic import demo_settings
from tests.integration.conftest import postgres_url  # noqa: F401 - used by the ``clinic`` fixture

from .clinic_harness import ADMIN, CHECKS, NURSE, PRESCRIBER, Clinic, clinic_fixture  # noqa: F401

T0 = datetime(2026, 3, 2, 14, 0, tzinfo=UTC)
OVERRIDE = Override("documented tolerance in the previous series", "dr.lee", T0)


def _checked_in(kind: SessionKind) -> object:
    policy = demo_settings().policy(kind)
    return check_in(new_session(kind, T0), CHECKS, policy, T0, "nurse")


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf, 1e6])
def test_iv_dose_with_override_refuses_nan_inf_and_huge_doses(bad: float) -> None:
    """``IvDose`` plus ``start_dosing`` with an override accepted NaN, inf and 1e6 mg/kg."""
    with pytest.raises(InvalidAnswerError) as info:
        start_dosing(_checked_in(SessionKind.IV_KETAMINE), IvDose(70, bad, timedelta(minutes=40)), T0, "nurse",  # type: ignore[arg-type]
                     override=OVERRIDE)  # fmt: skip
    assert info.value.field == "mg_per_kg"


@pytest.mark.parametrize("field", ["weight_kg", "duration"])
def test_every_dose_number_is_finite(field: str) -> None:
    values = {"weight_kg": 70.0, "mg_per_kg": 0.5, "duration": timedelta(minutes=40)}
    values[field] = math.nan if field == "weight_kg" else timedelta(days=10_000)
    with pytest.raises(InvalidAnswerError):
        IvDose(**values)  # type: ignore[arg-type]


@pytest.mark.parametrize(("kind", "dose"), [
    (SessionKind.IV_KETAMINE, IvDose(70, 0.5, timedelta(minutes=40))),
    (SessionKind.IM_KETAMINE, ImDose(70, 0.5)),
    (SessionKind.ESKETAMINE, EsketamineDose(56)),
])  # fmt: skip
def test_no_override_passes_the_absolute_ceiling(kind: SessionKind, dose: object) -> None:
    """Just above the ceiling of each route is refused even with an override; at the ceiling it is allowed."""
    ceiling = ABSOLUTE_CEILINGS[kind].high
    above = ceiling + 28 if kind is SessionKind.ESKETAMINE else ceiling + 0.01
    with pytest.raises(InvalidAnswerError):
        replace(dose, **({"total_mg": int(above)} if kind is SessionKind.ESKETAMINE else {"mg_per_kg": above}))  # type: ignore[type-var]
    at_ceiling = replace(dose, **({"total_mg": int(ceiling)} if kind is SessionKind.ESKETAMINE  # type: ignore[type-var]
                                  else {"mg_per_kg": ceiling}))  # fmt: skip
    limits = DoseLimits("mg" if kind is SessionKind.ESKETAMINE else "mg/kg", 0.1 if kind is not SessionKind.ESKETAMINE
                        else 56, 0.75 if kind is not SessionKind.ESKETAMINE else 56)  # fmt: skip
    session = check_in(new_session(kind, T0), replace(CHECKS, last_food_at=T0 - timedelta(hours=3),
                       last_liquid_at=T0 - timedelta(hours=1)), demo_settings().policy(kind), T0, "nurse")  # fmt: skip
    dosed = start_dosing(session, at_ceiling, T0, "nurse", limits, OVERRIDE)  # type: ignore[arg-type]
    assert dosed.state is SessionState.DOSING


def test_clinic_limits_cannot_exceed_the_ceiling() -> None:
    """A clinic limit above the label maximum would make overrides pointless: refused in the settings."""
    with pytest.raises(InvalidAnswerError) as info:
        replace(demo_settings(), iv_limits=DoseLimits("mg/kg", 0.1, 10))
    assert info.value.field == "iv_limits.high"


def test_override_through_the_service_stops_at_the_ceiling_and_is_audited(clinic: Clinic) -> None:
    """A prescriber's override between the clinic's limit and the ceiling is recorded and audited; above the
    ceiling nothing is stored."""
    record = clinic.session(clinic.patient())
    now = datetime.now(UTC)
    record = treatment.check_in_session(clinic.new_uow(), NURSE, record.id, record.version, CHECKS, now)
    huge = treatment.DoseOrder(mg_per_kg=50.0, duration_min=40, weight_kg=70, override_reason="typing slip")
    with pytest.raises(InvalidAnswerError, match="mg_per_kg"):
        treatment.start_dosing_session(clinic.new_uow(), PRESCRIBER, record.id, record.version, huge, now)
    assert treatment.get_session(clinic.new_uow(), NURSE, record.id).version == record.version
    reason = "documented tolerance of 1 mg/kg"
    order = treatment.DoseOrder(mg_per_kg=1.0, duration_min=40, weight_kg=70, override_reason=reason)
    dosed = treatment.start_dosing_session(clinic.new_uow(), PRESCRIBER, record.id, record.version, order, now)
    assert dosed.session.override is not None
    assert dosed.session.override.reason == reason
    assert any(reason in (e.detail or "") for e in audit_entries(clinic.new_uow(), ADMIN, limit=20))
