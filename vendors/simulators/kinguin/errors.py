"""Kinguin's error object (see ErrorsCodes.md) and the request it names.

``kind``, ``status``, ``title``, ``detail``, ``path``, ``method``, ``trace``, ``timestamp``,
and for a rejected value ``propertyPath`` and ``invalidValue``; a bad API key gets the
documented 401 body.
"""

from __future__ import annotations

import contextvars
import secrets
import time
from typing import Any

from aiohttp import web

from vendors.simulators.base import ApiError
from vendors.simulators.common import iso

UNAUTHORIZED_BODY: dict[str, Any] = {
    "kind": "Authorization",
    "status": 401,
    "detail": "Invalid authentication data.",
    "type": "Unauthorized",
}

_TITLES = {400: "Bad Request", 401: "Unauthorized", 404: "Not Found", 409: "Conflict"}
_MISSING: Any = object()
# The request being served: set first thing for every request (in ``auth_error``), read by
# the error builder so that every error object names its path and method.
CURRENT_REQUEST: contextvars.ContextVar[web.Request | None] = contextvars.ContextVar(
    "kinguin_sim_request", default=None
)


def error(
    status: int,
    kind: str,
    detail: str,
    *,
    property_path: str | None = None,
    invalid_value: Any = _MISSING,
    now: float | None = None,
) -> ApiError:
    """Kinguin's error object for the request being served."""
    request = CURRENT_REQUEST.get()
    body: dict[str, Any] = {
        "kind": kind,
        "status": status,
        "title": _TITLES.get(status, "Error"),
        "detail": detail,
        # The gateway reports paths under /api (the simulator serves at its root).
        "path": "/api" + request.path if request is not None else None,
        "method": request.method if request is not None else None,
        "trace": secrets.token_hex(5),
        "timestamp": iso(time.time() if now is None else now),
    }
    if property_path is not None:
        body["propertyPath"] = property_path
    if invalid_value is not _MISSING:
        body["invalidValue"] = invalid_value
    return ApiError(status, body)


def constraint(
    name: str, detail: str, now: float, value: Any = _MISSING, *, what: str = "parameter"
) -> ApiError:
    """A ``ConstraintViolation`` of the query parameter (or body ``property``) ``name``."""
    return error(
        400,
        "ConstraintViolation",
        f'Invalid "{name}" {what}. {detail}',
        property_path=name,
        invalid_value=value,
        now=now,
    )


def violation(path: str, detail: str, now: float, value: Any = _MISSING) -> ApiError:
    """A ``ConstraintViolation`` of the order body's property ``path``."""
    return constraint(path, detail, now, value, what="property")


def unavailable(i: int, detail: str, now: float) -> ApiError:
    """``ProductUnavailable`` for the order's ``i``-th product line."""
    return error(
        400,
        "ProductUnavailable",
        f"Unable to find any offer matching order request criteria: {detail}",
        property_path=f"products[{i}]",
        now=now,
    )
