"""Forgiving catalog search: case, accents and the Cyrillic/Latin alphabet do not matter
("ЭЛДЕН" finds "Elden Ring", "pokemon" finds "Pokémon"). Titles and categories are
normalized once, when the catalog snapshot is built; a query is matched word by word."""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence

# Russian (and a few neighbours') letters as Latin, the way people type game titles
_CYRILLIC = {
    "а": "a", "б": "b", "в": "v", "г": "g", "д": "d", "е": "e", "ж": "zh", "з": "z",
    "и": "i", "к": "k", "л": "l", "м": "m", "н": "n", "о": "o", "п": "p", "р": "r",
    "с": "s", "т": "t", "у": "u", "ф": "f", "х": "h", "ц": "ts", "ч": "ch", "ш": "sh",
    "щ": "sch", "ъ": "", "ы": "y", "ь": "", "э": "e", "ю": "yu", "я": "ya", "і": "i",
    "є": "e", "ґ": "g",
}  # fmt: skip


def normalize(text: str) -> str:
    """Lower case, no accents, Latin letters; punctuation becomes spaces."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    out = []
    for char in decomposed:
        if unicodedata.combining(char):
            continue
        latin = _CYRILLIC.get(char)
        if latin is not None:
            out.append(latin)
        elif char.isalnum():
            out.append(char)
        else:
            out.append(" ")
    return " ".join("".join(out).split())


def matches(query_words: Sequence[str], haystack: str) -> bool:
    return all(word in haystack for word in query_words)
