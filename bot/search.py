"""Forgiving catalog search: case, accents and the Cyrillic/Latin alphabet do not matter
("ЭЛДЕН" finds "Elden Ring", "pokemon" finds "Pokémon"). Titles and categories are
normalized and indexed once, when the catalog snapshot is built; a query is matched word
by word."""

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


class SearchIndex:
    """Which texts (normalized, in catalog order) hold every word of a query somewhere,
    without reading every text: a query word can only match inside one word of a text, so
    it is looked up among the catalog's distinct words, far fewer than its offers."""

    def __init__(self, texts: Sequence[str]) -> None:
        postings: dict[str, list[int]] = {}
        for position, text in enumerate(texts):
            for token in set(text.split()):
                postings.setdefault(token, []).append(position)
        self._postings = postings
        self._tokens = tuple(postings)

    def find(self, query_words: Sequence[str]) -> list[int]:
        """Positions of the texts holding every word, in order."""
        found: set[int] | None = None
        for word in sorted(set(query_words), key=len, reverse=True):  # rarest first
            hits: set[int] = set()
            for token in [token for token in self._tokens if word in token]:
                hits.update(self._postings[token])
            found = hits if found is None else found & hits
            if not found:
                return []
        return sorted(found or ())
