"""The demo clinic seeds patients and model-generated MADRS histories into a real database."""

from __future__ import annotations

from sqlalchemy import Engine, func, select

from ketamine_therapy.clinic.scales import course_summary
from ketamine_therapy.services.demo_clinic import seed_demo_clinic
from ketamine_therapy.storage.db import make_session_factory
from ketamine_therapy.storage.repositories import SqlUnitOfWork
from ketamine_therapy.storage.tables import PatientRow


def test_seed_creates_patients_with_scale_courses(engine: Engine) -> None:
    factory = make_session_factory(engine)
    summary = seed_demo_clinic(lambda: SqlUnitOfWork(factory), n_patients=6, seed=3)
    assert summary.patients == 6
    assert summary.by_course == {"iv-acute-series": 3, "spravato-trd": 3}
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(PatientRow)).scalar_one() == 6
    with SqlUnitOfWork(factory) as uow:
        for patient in uow.patients.list():
            records = uow.scales.for_patient(patient.id)
            totals = [(r.taken_on, r.result.total) for r in records]
            assert len(totals) >= 13  # baseline, one after each session, weekly to week 12
            summary_ = course_summary("MADRS", totals)
            assert summary_.best[1] <= summary_.baseline[1]
