"""The JSON API under ``/api/v1`` (FastAPI): routers, schemas, authentication and problem+json errors."""
