"""All page routes (not in the OpenAPI schema: the API under /api/v1 is the machine interface)."""

from fastapi import APIRouter

from . import (
    admin_pages,
    auth_pages,
    chart_pages,
    dashboard_pages,
    forecast_pages,
    patient_pages,
    plan_pages,
    questionnaire_pages,
    rems_pages,
    research_pages,
    runner_pages,
    screening_pages,
)

router = APIRouter(include_in_schema=False)
# patient_pages before chart_pages: /patients/new must be matched before /patients/{patient_id}
for module in (auth_pages, dashboard_pages, patient_pages, chart_pages, forecast_pages, screening_pages, plan_pages,
               rems_pages, admin_pages, questionnaire_pages, runner_pages, research_pages):  # fmt: skip
    router.include_router(module.router)
