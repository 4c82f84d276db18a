"""Validation at the edges (API, web, CLI): pydantic models of what users send, before the domain's own checks."""
