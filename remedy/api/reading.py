"""Who reads an answer: the language they asked for and whether they see finance's numbers.

`Accept-Language` names the reader's language (the console and the panel send their own
setting); the first tag, by quality, whose language has a catalog wins, with its region kept
for money formats ('de-CH') and for the catalog where a language has one per region ('pt-BR'
reads Brazilian Portuguese, 'pt-PT' European). A request that names none reads in the
customer's language, as the API always has; one that names only languages without a catalog
reads English. Finance and
admins read the internal numbers (pacing's shadow price, P(stay), exploration's probability);
agents and leads read plain words.
"""

from __future__ import annotations

from flask import request

from remedy.api.auth import current_principal
from remedy.presenting import Reader, catalog_for

FINANCE_READERS = frozenset({"finance", "admin"})


def reader_locale() -> str | None:
    """The reader's locale from Accept-Language (None: the request names no language)."""
    header = request.accept_languages
    if not header:
        return None
    for tag, _quality in header:
        if catalog_for(tag) is not None:
            return tag
    return "en"


def current_reader() -> Reader:
    """The calling key's reader: its language and whether it reads finance's numbers."""
    return Reader(reader_locale(), current_principal().role in FINANCE_READERS)
