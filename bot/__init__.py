"""Assembly and runtime of the storefront: configuration, wiring, background workers."""

from bot.lazy_aiogram import load as _load_aiogram

_load_aiogram()
