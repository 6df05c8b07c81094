"""G2A's market as the Import API simulator shows it: price simulations per country group and
bestsellers drawn from the simulator's catalogue.

A simulation answers ``{income, finalePrice, businessFinalPrice, businessIncome}``, each a
map from country group to EUR amount. G2A's commission may differ per country: without
``country`` the answer holds every group of the commission table (the countries with a
rate of their own, and ``OTHER`` for the rest), or the single group ``ALL`` when every
rate is the same; with ``country`` it holds that country's code alone. At a price P and a
commission rate r: ``finalePrice`` = P (what a buyer pays), ``income`` = P·(1 − r),
``businessFinalPrice`` = P·(1 − business discount), ``businessIncome`` =
businessFinalPrice·(1 − r), rounded to cents.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from pydantic import Field

from vendors.simulators.base import RequestBody
from vendors.simulators.g2a.catalog import SimProduct
from vendors.simulators.g2a.import_wire import page_of, paging
from vendors.simulators.g2a.wire import bad_request, parse_body

OTHER = "OTHER"
ALL = "ALL"
DEFAULT_COMMISSIONS: dict[str, float] = {OTHER: 0.10, "PL": 0.08, "GB": 0.12}
BUSINESS_DISCOUNT = 0.05


class SimulationQuery(RequestBody):
    productId: str
    price: float = Field(gt=0)
    country: str | None = Field(default=None, pattern=r"^[A-Za-z]{2}$|^(?i:all|other)$")


def simulation_query(query: Mapping[str, str]) -> SimulationQuery:
    return parse_body(SimulationQuery, dict(query))


def simulate(price: float, commissions: Mapping[str, float], country: str | None) -> dict[str, Any]:
    """The simulation of selling at ``price`` (EUR) under a commission table."""
    groups = _groups(commissions, country)
    answer: dict[str, dict[str, float]] = {
        "income": {},
        "finalePrice": {},
        "businessFinalPrice": {},
        "businessIncome": {},
    }
    business_price = price * (1 - BUSINESS_DISCOUNT)
    for group, rate in groups.items():
        answer["income"][group] = round(price * (1 - rate), 2)
        answer["finalePrice"][group] = round(price, 2)
        answer["businessFinalPrice"][group] = round(business_price, 2)
        answer["businessIncome"][group] = round(business_price * (1 - rate), 2)
    return answer


def _groups(commissions: Mapping[str, float], country: str | None) -> dict[str, float]:
    other = commissions.get(OTHER, commissions.get(ALL, 0.0))
    if country is not None:
        code = country.upper()
        return {code: commissions.get(code, other)}
    if len(set(commissions.values())) <= 1:
        return {ALL: other}
    return dict(commissions)


def bestsellers(
    products: Iterable[SimProduct], sales: Mapping[str, int], query: Mapping[str, str]
) -> dict[str, Any]:
    """``GET /bestsellers``: the catalogue by sales, filtered by ``category`` (a name or id)
    and ``platform``, paged as ``{data, meta}``."""
    page, per_page = paging(query)
    category = query.get("category")
    platform = query.get("platform")
    if category is not None and not category.strip():
        raise bad_request("category must not be empty")
    found = [
        product
        for product in products
        if (platform is None or product.platform.lower() == platform.lower())
        and (category is None or _in_category(product, category))
    ]
    found.sort(key=lambda p: (-sales.get(p.product_id, 0), p.product_id))
    return page_of([_bestseller(p, sales.get(p.product_id, 0)) for p in found], page, per_page)


def _in_category(product: SimProduct, wanted: str) -> bool:
    wanted = wanted.strip().lower()
    return any(
        str(c.get("id")).lower() == wanted or str(c.get("name", "")).lower() == wanted
        for c in product.categories
    )


def _bestseller(product: SimProduct, sold: int) -> dict[str, Any]:
    return {
        "productId": product.product_id,
        "name": product.name,
        "platform": product.platform,
        "region": product.region,
        "categories": [dict(c) for c in product.categories],
        "lowestPrice": product.min_price,
        "sales": sold,
    }
