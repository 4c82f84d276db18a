"""The API's routers under ``/api/v1``."""

from fastapi import APIRouter

from . import (
    admin_routes,
    auth_routes,
    forecast_routes,
    patient_routes,
    plan_routes,
    rems_routes,
    research_routes,
    scale_routes,
    session_routes,
)

router = APIRouter()
for module in (auth_routes, patient_routes, scale_routes, forecast_routes, plan_routes, session_routes, rems_routes,
               research_routes, admin_routes):  # fmt: skip
    router.include_router(module.router)
