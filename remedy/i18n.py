"""The customer's language for everything an agent reads: talking points, labels, notes, reasons.

Messages are gettext catalogs (`remedy/translations/<language>/LC_MESSAGES/messages.po`, read
with Babel when first needed; no compile step, no build). The message id is the English text
with `{name}` placeholders; `Messages(msgid, **params)` translates, then fills the placeholders.
A language without a catalog falls back to English and says so (`fallback`), so the response
can note it. Money in text is formatted for the locale by Babel (`money`).
"""

from __future__ import annotations

import gettext
import io
from decimal import Decimal
from functools import cache
from importlib import resources

from babel import Locale, UnknownLocaleError
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_currency

# The languages with a complete catalog (tests/test_i18n.py checks every message id in each).
LANGUAGES = ("en", "fr", "de", "es", "it", "nl", "pt", "ja")
DEFAULT_LANGUAGE = "en"


def N_(msgid: str) -> str:
    """Mark a message id for extraction where it is translated later (data tables)."""
    return msgid


class Messages:
    """Translate and format the messages of one language."""

    def __init__(self, locale: str, language: str, catalog: gettext.NullTranslations) -> None:
        """Use `catalog` for `language`; `locale` formats money (e.g. 'fr-CA')."""
        self.locale = locale
        self.language = language
        self._catalog = catalog

    @property
    def fallback(self) -> bool:
        """Whether the requested language has no catalog, so English is used."""
        return self.language != _language_of(self.locale)

    def __call__(self, msgid: str, **params: object) -> str:
        """Translate `msgid`, then fill its `{placeholders}` from `params`."""
        text = self._catalog.gettext(msgid)
        return text.format(**params) if params else text

    def plural(self, singular: str, plural: str, n: int, **params: object) -> str:
        """Translate a message whose form depends on `n` (also available as `{n}`)."""
        text = self._catalog.ngettext(singular, plural, n)
        return text.format(n=n, **params)

    def money(self, amount: Decimal, currency: str) -> str:
        """Format an amount for the locale ('1 234,50 €' in French, '€1,234.50' in English)."""
        return format_currency(amount, currency, locale=_babel_locale(self.locale))


def messages_for(locale: str) -> Messages:
    """Return the messages for a customer's locale ('fr-CA' -> French), English if unknown."""
    language = _language_of(locale)
    if language not in LANGUAGES:
        language = DEFAULT_LANGUAGE
    return Messages(locale, language, _catalog(language))


def _language_of(locale: str) -> str:
    """The language part of a locale ('fr' for 'fr_CA' or 'fr-CA')."""
    return locale.replace("_", "-").split("-")[0].lower()


@cache
def _babel_locale(locale: str) -> Locale:
    """Babel's locale for formatting, English when Babel does not know it."""
    try:
        return Locale.parse(locale.replace("-", "_"))
    except (UnknownLocaleError, ValueError):
        try:
            return Locale.parse(_language_of(locale))
        except (UnknownLocaleError, ValueError):
            return Locale.parse(DEFAULT_LANGUAGE)


@cache
def _catalog(language: str) -> gettext.NullTranslations:
    """Read a language's .po catalog once (English ids translate to themselves)."""
    path = resources.files("remedy") / "translations" / language / "LC_MESSAGES" / "messages.po"
    if not path.is_file():
        return gettext.NullTranslations()
    with path.open("rb") as source:
        catalog = read_po(source, locale=language)
    compiled = io.BytesIO()
    write_mo(compiled, catalog)
    compiled.seek(0)
    return gettext.GNUTranslations(compiled)
