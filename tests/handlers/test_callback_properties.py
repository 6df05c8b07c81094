"""Forged buttons: any callback data a client can send is either one of ours, read back
exactly, or refused with TypeError or ValueError, which aiogram's callback filter takes
as "not this button" (no handler runs; the fallback answers the press)."""

from __future__ import annotations

import pytest
from aiogram.filters.callback_data import CallbackData
from hypothesis import given, settings
from hypothesis import strategies as st

CALLBACKS = sorted(
    (cls for cls in CallbackData.__subclasses__() if cls.__module__.startswith("handlers.")),
    key=lambda cls: cls.__name__,
)


def forged(cls: type[CallbackData]) -> st.SearchStrategy[str]:
    """Random text, and text that starts with the class's prefix (the ones that get far);
    at most 64 bytes, as Telegram never carries more callback data."""
    fields = st.lists(st.text(max_size=12), max_size=6).map(":".join)
    texts = st.text(max_size=64) | fields.map(lambda rest: f"{cls.__prefix__}:{rest}")
    return texts.filter(lambda text: len(text.encode()) <= 64)


def test_the_shops_buttons_are_all_here():
    names = {cls.__name__ for cls in CALLBACKS}
    assert {"OfferCb", "BuyCb", "AdminCb", "SupportCb", "ImportCb", "G2AListCb"} <= names


@pytest.mark.parametrize("cls", CALLBACKS, ids=lambda cls: cls.__name__)
@settings(max_examples=40, deadline=None)
@given(data=st.data())
def test_forged_callback_data_is_refused_or_read_back(cls: type[CallbackData], data):
    text = data.draw(forged(cls))
    try:
        parsed = cls.unpack(text)
    except (TypeError, ValueError):  # a wrong count of parts; a bad prefix or value
        return
    assert cls.unpack(parsed.pack()) == parsed  # what we accept, we can send back
