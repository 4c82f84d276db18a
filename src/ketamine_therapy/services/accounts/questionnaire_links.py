"""Patients' questionnaire links: single-use and short-lived; only the token's SHA-256 is stored.

A submission scores the answers, consumes the link with a conditional update and records the scale in one
transaction, so two concurrent submissions record once.
"""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from ...clinic.exceptions import InvalidAnswerError
from ...clinic.records import RecordedScale
from ...clinic.scales import score
from ..audit import audit
from ..authorization import Actor, Permission, Role
from ..clock import Clock, utc_now
from ..ports import UnitOfWork
from ..ports.accounts import QuestionnaireLinkRecord
from .errors import LinkInvalidError, NotConfiguredError
from .hashing import hash_token

LINK_TTL = timedelta(hours=72)
MAX_LINK_TTL = timedelta(days=7)
LINK_SCALES = ("PHQ-9", "GAD-7")
"""The questionnaires a patient may fill through a link (self-report scales)."""
LINK_SUBMITTER = "patient (questionnaire link)"


@dataclass(frozen=True)
class QuestionnaireLink:
    """What a valid link opens: which questionnaire, for whom, until when."""

    patient_id: uuid.UUID
    scale_id: str
    expires_at: datetime


def create_questionnaire_link(
    uow: UnitOfWork,
    actor: Actor,
    patient_id: uuid.UUID,
    scale_id: str,
    *,
    clock: Clock = utc_now,
    ttl: timedelta = LINK_TTL,
) -> str:
    """A single-use link token for the patient to fill ``scale_id`` (PHQ-9 or GAD-7) within ``ttl``.

    Needs :attr:`Permission.QUESTIONNAIRE_LINK`. Only the token's SHA-256 is stored: send the token to the patient.
    """
    actor.require(Permission.QUESTIONNAIRE_LINK)
    if scale_id not in LINK_SCALES:
        raise InvalidAnswerError("scale_id", f"{scale_id!r} cannot be sent as a link", ", ".join(LINK_SCALES))
    if not timedelta(0) < ttl <= MAX_LINK_TTL:
        raise InvalidAnswerError("ttl", f"{ttl} is not allowed", f"more than 0 and at most {MAX_LINK_TTL}")
    token = secrets.token_urlsafe(32)
    now = clock()
    with uow:
        uow.patients.get(patient_id)  # NotFoundError for an unknown patient
        link = QuestionnaireLinkRecord(token_hash=hash_token(token), patient_id=patient_id, scale_id=scale_id,
                                       created_at=now, created_by=actor.username, expires_at=now + ttl)  # fmt: skip
        uow.questionnaire_links.add(link)
        audit(uow, actor, "create", "questionnaire-link", link.id, patient_id,
              f"{scale_id}, expires {link.expires_at.isoformat()}", at=now)  # fmt: skip
        uow.commit()
    return token


def questionnaire_link_url(public_url: str, token: str) -> str:
    """The link sent to the patient: the clinic's configured public URL, never the request's ``Host`` header.

    Raises :class:`NotConfiguredError` while ``public_url`` is unset; call it with an empty token to check first.
    """
    if not public_url:
        raise NotConfiguredError("questionnaire links need the clinic's public URL: set KETAMINE_THERAPY_PUBLIC_URL "
                                 "(e.g. https://clinic.example.org)")  # fmt: skip
    return f"{public_url.rstrip('/')}/q/{token}"


def _valid_link(uow: UnitOfWork, token: str, now: datetime) -> QuestionnaireLinkRecord:
    if not isinstance(token, str) or not token:
        raise LinkInvalidError()
    link = uow.questionnaire_links.get(hash_token(token))
    if link is None or link.used_at is not None or now >= link.expires_at:
        raise LinkInvalidError()
    return link


def open_questionnaire(uow: UnitOfWork, token: str, *, clock: Clock = utc_now) -> QuestionnaireLink:
    """What a link opens; :class:`LinkInvalidError` if it is unknown, used or expired. Consumes nothing."""
    with uow:
        link = _valid_link(uow, token, clock())
    return QuestionnaireLink(link.patient_id, link.scale_id, link.expires_at)


def submit_questionnaire(
    uow: UnitOfWork, token: str, answers: Sequence[int], *, clock: Clock = utc_now, source: str = "questionnaire-link"
) -> RecordedScale:
    """Score the patient's answers and record them, consuming the link, in one transaction.

    Bad answers raise :class:`InvalidAnswerError` and change nothing (the link stays usable). Of two concurrent
    submissions only one records: the link is consumed by a conditional update, and the loser gets
    :class:`LinkInvalidError`. Check ``result.flags`` (PHQ-9 item 9: ``suicidality``) to alert the clinic.
    """
    now = clock()
    patient = Actor("patient-link", Role.PATIENT, source)
    with uow:
        link = _valid_link(uow, token, now)
        result = score(link.scale_id, answers)
        if not uow.questionnaire_links.mark_used(link.token_hash, now):
            raise LinkInvalidError()  # someone submitted it in between
        record = RecordedScale(link.patient_id, now.date(), result, now, LINK_SUBMITTER)
        uow.scales.add(record)
        flags = ", ".join(sorted(result.flags))
        audit(uow, patient, "create", "scale", record.id, link.patient_id,
              f"{link.scale_id} via link {link.id}" + (f"; flags: {flags}" if flags else ""), at=now)  # fmt: skip
        uow.commit()
    return record
