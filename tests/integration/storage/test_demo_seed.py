"""The demo clinic is seeded through the same use cases staff use, into a real database (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import date

from sqlalchemy import Engine

from ketamine_therapy.clinic.scales import course_summary
from ketamine_therapy.clinic.sessions import SessionKind, SessionState
from ketamine_therapy.services.demo_clinic import seed_demo_clinic
from ketamine_therapy.storage.db import make_session_factory
from ketamine_therapy.storage.unit_of_work import SqlUnitOfWork

TODAY = date(2026, 11, 20)


def test_seed_runs_iv_spravato_and_im_courses_up_to_today(engine: Engine) -> None:
    factory = make_session_factory(engine)
    summary = seed_demo_clinic(lambda: SqlUnitOfWork(factory), n_patients=5, seed=3, today=TODAY)
    assert summary.by_course == {"iv-acute-series": 2, "spravato-trd-84": 2, "im": 1}
    with SqlUnitOfWork(factory) as uow:
        settings, _ = uow.settings.get()
        kinds = set()
        for patient in uow.patients.list():
            sessions = uow.sessions.for_patient(patient.id)
            assert sessions, "every demo patient has a plan with sessions"
            kinds |= {s.session.kind for s in sessions}
            for s in sessions:
                day = settings.local_date(s.session.scheduled_at)
                expected = SessionState.DISCHARGED if day < TODAY else SessionState.SCHEDULED
                assert s.session.state is expected
            given = [s for s in sessions if s.session.state is SessionState.DISCHARGED]
            forms = uow.rems.forms(patient.id)
            if given and given[0].session.kind is SessionKind.ESKETAMINE:
                assert len(forms) == len(given)  # one Patient Monitoring Form per esketamine session
                assert uow.rems.enrollment(patient.id) is not None
            else:
                assert forms == []
            totals = [(r.taken_on, r.result.total) for r in uow.scales.for_patient(patient.id)]
            assert all(d <= TODAY for d, _ in totals)
            if given:
                course = course_summary("MADRS", totals)
                assert course.best[1] <= course.baseline[1]
            assert uow.screenings.for_patient(patient.id)
    assert kinds == {SessionKind.IV_KETAMINE, SessionKind.ESKETAMINE, SessionKind.IM_KETAMINE}
    assert summary.sessions_run > 0
    assert summary.rems_forms > 0
