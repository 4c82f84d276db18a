"""Patients' questionnaire links (``/q/{token}``): no login; the single-use token opens one PHQ-9 or GAD-7.

The pages show no patient data (not even a name): whoever holds the link sees only the questions. Answers are
scored and stored by :func:`services.accounts.questionnaire_links.submit_questionnaire`; a PHQ-9 item 9 answer
above 0 raises the ``suicidality`` flag that the chart and the dashboard show, and the thank-you page shows crisis
resources.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from ..clinic.exceptions import InvalidAnswerError
from ..http.context import client_address
from ..services.accounts.errors import LinkInvalidError
from ..services.accounts.questionnaire_links import open_questionnaire, submit_questionnaire
from .base import ContextDep, render
from .forms import FormDep

router = APIRouter()


@dataclass(frozen=True)
class QuestionnaireText:
    """The wording patients see: the stem, the items in order and the answer options (value, label)."""

    title: str
    stem: str
    items: tuple[str, ...]
    options: tuple[tuple[int, str], ...]
    source: str


FREQUENCY = ((0, "Not at all"), (1, "Several days"), (2, "More than half the days"), (3, "Nearly every day"))

# The standard English wording of the PHQ-9 and GAD-7 (Spitzer, Williams, Kroenke and colleagues, developed with
# an educational grant from Pfizer Inc.; "No permission required to reproduce, translate, display or distribute",
# phqscreeners.com). The PHQ-9's unscored tenth question (how difficult the problems made things) is not asked:
# the scale's score uses items 1-9 only (clinic/scales.py, clinical.md §1d).
QUESTIONNAIRES: Mapping[str, QuestionnaireText] = {
    "PHQ-9": QuestionnaireText(
        title="PHQ-9",
        stem="Over the last 2 weeks, how often have you been bothered by any of the following problems?",
        items=(
            "Little interest or pleasure in doing things",
            "Feeling down, depressed, or hopeless",
            "Trouble falling or staying asleep, or sleeping too much",
            "Feeling tired or having little energy",
            "Poor appetite or overeating",
            "Feeling bad about yourself — or that you are a failure or have let yourself or your family down",
            "Trouble concentrating on things, such as reading the newspaper or watching television",
            "Moving or speaking so slowly that other people could have noticed? Or the opposite — being so fidgety "
            "or restless that you have been moving around a lot more than usual",
            "Thoughts that you would be better off dead or of hurting yourself in some way",
        ),
        options=FREQUENCY,
        source="PHQ-9 © Pfizer Inc.; no permission required to reproduce, translate, display or distribute.",
    ),
    "GAD-7": QuestionnaireText(
        title="GAD-7",
        stem="Over the last 2 weeks, how often have you been bothered by the following problems?",
        items=(
            "Feeling nervous, anxious or on edge",
            "Not being able to stop or control worrying",
            "Worrying too much about different things",
            "Trouble relaxing",
            "Being so restless that it is hard to sit still",
            "Becoming easily annoyed or irritable",
            "Feeling afraid as if something awful might happen",
        ),
        options=FREQUENCY,
        source="GAD-7 © Pfizer Inc.; no permission required to reproduce, translate, display or distribute.",
    ),
}
"""Patient-facing wording of the questionnaires a link can open (``LINK_SCALES``)."""

SAFETY_FLAGS = frozenset({"suicidality", "moderate_risk", "high_risk"})


def _invalid(request: Request) -> HTMLResponse:
    return render(request, "questionnaire_invalid.html", None, status_code=404)


def _form(request: Request, token: str, scale_id: str, answers: Mapping[int, int], missing: list[int],
          error: str = "", status_code: int = 200) -> HTMLResponse:  # fmt: skip
    return render(request, "questionnaire.html", None, status_code, token=token, q=QUESTIONNAIRES[scale_id],
                  answers=answers, missing=missing, error=error)  # fmt: skip


@router.get("/q/{token}")
def questionnaire(request: Request, ctx: ContextDep, token: str) -> HTMLResponse:
    """The questionnaire a link opens (a friendly 'link not valid' page for unknown, used or expired links)."""
    try:
        link = open_questionnaire(ctx.new_uow(), token)
    except LinkInvalidError:
        return _invalid(request)
    return _form(request, token, link.scale_id, {}, [])


@router.post("/q/{token}")
def questionnaire_submit(request: Request, ctx: ContextDep, token: str, form: FormDep) -> HTMLResponse:
    """Score and store the answers (all items required), consuming the link; then say thank you."""
    try:
        link = open_questionnaire(ctx.new_uow(), token)
    except LinkInvalidError:
        return _invalid(request)
    text = QUESTIONNAIRES[link.scale_id]
    allowed = {str(value) for value, _ in text.options}
    answers: dict[int, int] = {}
    for number in range(1, len(text.items) + 1):
        raw = form.get(f"item{number}")
        if isinstance(raw, str) and raw in allowed:
            answers[number] = int(raw)
    missing = [n for n in range(1, len(text.items) + 1) if n not in answers]
    if missing:
        which = ("questions " if len(missing) > 1 else "question ") + ", ".join(str(n) for n in missing)
        return _form(request, token, link.scale_id, answers, missing, status_code=422,
                     error=f"Please answer every question (missing: {which}).")  # fmt: skip
    try:
        record = submit_questionnaire(ctx.new_uow(), token, [answers[n] for n in sorted(answers)],
                                      source=client_address(request))  # fmt: skip
    except LinkInvalidError:
        return _invalid(request)
    except InvalidAnswerError as exc:
        return _form(request, token, link.scale_id, answers, [], error=f"{exc.field}: {exc.message}", status_code=422)
    crisis = bool(record.result.flags & SAFETY_FLAGS)
    return render(request, "questionnaire_done.html", None, crisis=crisis, title=text.title)
