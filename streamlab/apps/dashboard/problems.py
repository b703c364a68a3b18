"""Every 4xx answer is a ``Problem``, one sentence saying what was wrong; these are the answers
the routes document beside their 200, so the spec names every status the API gives."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel


class Problem(BaseModel):
    """Every 4xx answer: one sentence saying what was wrong."""

    detail: str


NOT_FOUND: dict[int | str, dict[str, Any]] = {404: {"model": Problem, "description": "No such key in the view"}}
WRITE_REFUSED: dict[int | str, dict[str, Any]] = {
    401: {"model": Problem, "description": "No token, or not the token"},
    403: {"model": Problem, "description": "A page of another origin"},
}
