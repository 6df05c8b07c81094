"""The G2A Import API's wire details: paths, error codes, request bodies and paging.

Errors have the Export API's shape, ``{"status": "ERROR", "code": ..., "message": ...}``.
Codes the contract leaves open, chosen here:

* ``OFFER_NOT_FOUND`` = OFR01 (404), ``JOB_NOT_FOUND`` = JOB01 (404);
* ``OFFER_NOT_EDITABLE`` = OFR02 (400): a ``preorder`` offer (only dropshipping, promo,
  steamgift and game offers can be edited);
* ``OFFER_EXISTS`` = OFR03: the job of an offer for a product that already has an offer
  of that type ends ``failed`` with it (an unknown product: PRD01);
* ``INVENTORY_NOT_ALLOWED`` = OFR04 (400): adding a keys collection to a non-promo offer;
* ``COLLECTION_NOT_FOUND`` = OFR05 (404): a ``tmpInventoryId`` the offer did not upload.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any, Literal, get_args

from pydantic import Field, field_validator

from vendors.simulators.base import ApiError, RequestBody
from vendors.simulators.g2a.wire import bad_request, error, int_param

IMPORT_PREFIX = "/integration-api/v1"
# The contract's token path is `GET /token`; the base URL may or may not carry the
# Import API prefix, so both places serve it.
TOKEN_PATHS = ("/token", IMPORT_PREFIX + "/token")

OFFER_NOT_FOUND = "OFR01"
OFFER_NOT_EDITABLE = "OFR02"
OFFER_EXISTS = "OFR03"
INVENTORY_NOT_ALLOWED = "OFR04"
COLLECTION_NOT_FOUND = "OFR05"
JOB_NOT_FOUND = "JOB01"

OfferType = Literal["dropshipping", "promo", "steamgift", "game", "preorder"]
Visibility = Literal["retail", "business", "all"]
JobStatus = Literal["pending", "processing", "completed", "failed", "cancelled"]
OfferStatus = Literal["active", "inactive"]

OFFER_TYPES: tuple[str, ...] = get_args(OfferType)
EDITABLE_TYPES = frozenset({"dropshipping", "promo", "steamgift", "game"})
OFFER_PER_PAGE = (10, 20, 50, 100)
DEFAULT_PER_PAGE = 20
MAX_PER_PAGE = 100


class InventoryBody(RequestBody):
    """An offer's ``inventory``: the declared stock ``size`` and/or, for a promo offer, a
    keys collection uploaded before (``tmpInventoryId``)."""

    size: int | None = Field(default=None, ge=0)
    tmpInventoryId: str | None = None


class CreateOfferRequest(RequestBody):
    offerType: OfferType
    productId: str
    price: float = Field(gt=0)
    visibility: Visibility
    inventory: InventoryBody | None = None
    variant: Any = None


class UpdateOfferRequest(RequestBody):
    price: float | None = Field(default=None, gt=0)
    visibility: Visibility | None = None
    active: bool | None = None
    inventory: InventoryBody | None = None
    variant: Any = None


class AddInventoryRequest(RequestBody):
    keys: list[str] = Field(min_length=1)

    @field_validator("keys")
    @classmethod
    def _no_blank_keys(cls, keys: list[str]) -> list[str]:
        if any(not key.strip() for key in keys):
            raise ValueError("keys must not be blank")
        return keys


def not_found(code: str, what: str) -> ApiError:
    return error(404, code, f"{what} not found")


def paging(query: Mapping[str, str], allowed: Sequence[int] | None = None) -> tuple[int, int]:
    """``page`` (from 1) and ``perPage`` (one of ``allowed``, else 1..100)."""
    page = int_param(query, "page")
    page = 1 if page is None else page
    if page < 1:
        raise bad_request("page must be at least 1")
    per_page = int_param(query, "perPage")
    per_page = DEFAULT_PER_PAGE if per_page is None else per_page
    if allowed is not None and per_page not in allowed:
        raise bad_request(f"perPage must be one of {', '.join(map(str, allowed))}")
    if not 1 <= per_page <= MAX_PER_PAGE:
        raise bad_request(f"perPage must be between 1 and {MAX_PER_PAGE}")
    return page, per_page


def page_of(items: Sequence[dict[str, Any]], page: int, per_page: int) -> dict[str, Any]:
    """``{data, meta: {currentPage, lastPage, perPage, total}}``."""
    last = max(1, math.ceil(len(items) / per_page))
    return {
        "data": list(items[(page - 1) * per_page : page * per_page]),
        "meta": {"currentPage": page, "lastPage": last, "perPage": per_page, "total": len(items)},
    }


def choice_param(query: Mapping[str, str], name: str, allowed: Sequence[str]) -> str | None:
    raw = query.get(name)
    if raw is not None and raw not in allowed:
        raise bad_request(f"{name} must be one of {', '.join(allowed)}")
    return raw
