"""All page routes (not in the OpenAPI schema: the API under /api/v1 is the machine interface)."""

from fastapi import APIRouter

from . import auth_pages, clinic_pages, questionnaire_pages, research_pages, runner_pages

router = APIRouter(include_in_schema=False)
for module in (auth_pages, clinic_pages, questionnaire_pages, runner_pages, research_pages):
    router.include_router(module.router)
