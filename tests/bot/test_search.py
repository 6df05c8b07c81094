"""Catalog search forgives case, accents and the alphabet."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.catalog import Catalog
from bot.search import SearchIndex, normalize
from tests.support.factories import offer


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Elden RING", "elden ring"),
        ("Pokémon Café!", "pokemon cafe"),
        ("ЭЛДЕН Ринг", "elden ring"),
        ("Ёжик в тумане", "ezhik v tumane"),
        ("Counter-Strike: Source", "counter strike source"),
    ],
)
def test_normalize(text, expected):
    assert normalize(text) == expected


def test_search_matches_every_word_in_title_or_category():
    catalog = Catalog(
        [
            offer(sku="elden", title="Elden Ring (Steam key)", category="PC games"),
            offer(sku="poke", title="Pokémon Scarlet", category="Nintendo"),
            offer(sku="steam-5", title="Steam Wallet 5 USD", category="Gift cards"),
        ]
    )
    assert [o.sku for o in catalog.search("элден")] == ["elden"]
    assert [o.sku for o in catalog.search("POKEMON")] == ["poke"]
    assert [o.sku for o in catalog.search("steam")] == ["elden", "steam-5"]
    assert [o.sku for o in catalog.search("gift steam")] == ["steam-5"]
    assert catalog.search("  ?! ") == () and catalog.search("zelda") == ()


WORD = st.text(alphabet="abcde ", min_size=0, max_size=12)


@given(texts=st.lists(WORD, max_size=30), query=st.lists(WORD, max_size=3))
def test_the_index_finds_exactly_the_texts_holding_every_word(texts, query):
    texts = [normalize(text) for text in texts]
    words = normalize(" ".join(query)).split()
    expected = [n for n, text in enumerate(texts) if all(word in text for word in words)]
    assert SearchIndex(texts).find(words) == (expected if words else [])
