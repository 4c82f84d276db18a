"""Optimistic locking over HTTP: responses carry ``ETag: "<version>"``; changes send ``If-Match: "<version>"``."""

from __future__ import annotations

from typing import Annotated

from fastapi import Header, Response

from .problems import PreconditionRequiredError


def expected_version(
    if_match: Annotated[str | None, Header(description='the ETag of the version you read, e.g. "3"')] = None,
) -> int:
    """The version named by ``If-Match`` (required: a change must say which version it builds on)."""
    if if_match is None:
        raise PreconditionRequiredError('If-Match header required: send the ETag you read, e.g. If-Match: "3"')
    text = if_match.strip().removeprefix("W/").strip('"')
    if not text.isdigit():
        raise PreconditionRequiredError(f'If-Match {if_match!r} is not a version ETag like "3"')
    return int(text)


def tag(response: Response, version: int) -> None:
    """Set the ETag of a versioned record."""
    response.headers["ETag"] = f'"{version}"'
