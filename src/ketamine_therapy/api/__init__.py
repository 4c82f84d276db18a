"""The JSON API under ``/api/v1`` (FastAPI): routers and their schemas. Authentication, problem+json errors,
pagination and ``If-Match`` versioning are shared with the web pages in :mod:`ketamine_therapy.http`."""
