"""The shop's catalog: the file that seeds it, the in-memory snapshot customers browse, and
imports from the vendors' own product lists (also `python -m bot.catalog`)."""

from bot.catalog.file import CatalogError, check_against_vendors, load_catalog_file
from bot.catalog.snapshot import Catalog, Category, category_key

__all__ = [
    "Catalog",
    "CatalogError",
    "Category",
    "category_key",
    "check_against_vendors",
    "load_catalog_file",
]
