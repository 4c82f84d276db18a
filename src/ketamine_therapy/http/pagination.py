"""Pagination parameters and the page envelope."""

from __future__ import annotations

from typing import Annotated, Generic, TypeVar

from fastapi import Query
from pydantic import BaseModel

T = TypeVar("T")

Limit = Annotated[int, Query(ge=1, le=200, description="page size")]
Offset = Annotated[int, Query(ge=0, le=1_000_000, description="items to skip")]


class Page(BaseModel, Generic[T]):
    """One page: ``next_offset`` is null on the last page."""

    items: list[T]
    limit: int
    offset: int
    next_offset: int | None


def page(items: list[T], limit: int, offset: int) -> Page[T]:
    """A page of ``items`` fetched with one extra row to know whether more follow."""
    more = len(items) > limit
    return Page[T](items=items[:limit], limit=limit, offset=offset, next_offset=offset + limit if more else None)
