"""The customer's language for everything an agent reads: talking points, labels, notes, reasons.

Messages are gettext catalogs (`remedy/translations/<language>/LC_MESSAGES/messages.po`, read
with Babel when first needed; no compile step, no build). The message id is the English text
with `{name}` placeholders; `Messages(msgid, **params)` translates, then fills the placeholders.
A language without a catalog falls back to English and says so (`fallback`), so the response
can note it. Money and numbers in text are formatted for the locale with Babel's data (`money`,
`number`, `percent`).

Message ids are found by Babel's extractor (`babel.cfg`: calls of `m(...)`, `m.plural(...)`
and `N_(...)` in remedy/ and catalog/, and the English labels of the default catalog); README
"Languages" has the commands. Call a `Messages` object `m` so that its ids are extracted.
"""

from __future__ import annotations

import gettext
import io
import unicodedata
from decimal import ROUND_HALF_EVEN, ROUND_HALF_UP, Decimal
from functools import cache
from importlib import resources

from babel import Locale, UnknownLocaleError
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import (
    format_currency,
    format_percent,
    get_currency_precision,
    get_currency_symbol,
    get_decimal_symbol,
    get_group_symbol,
)
from babel.units import format_unit

# The catalogs, each complete (tests/test_i18n.py checks every message id in each), by Babel's
# folder name under remedy/translations. Portuguese has two: European and Brazilian.
LANGUAGES = ("en", "fr", "de", "es", "it", "nl", "pt_PT", "pt_BR", "ja")
DEFAULT_LANGUAGE = "en"
# A language written differently by region: its catalogs by region, and the one a locale
# without a region (or with one not listed) reads. Brazil writes pt_BR; Portugal, Angola,
# Mozambique, Cape Verde, Guinea-Bissau, Sao Tome, Timor-Leste, Macao and Equatorial Guinea
# write European Portuguese. A bare 'pt' reads pt_BR, as CLDR's own 'pt' is Brazil's (so the
# words and Babel's money and numbers for 'pt' agree); README "Languages" says so.
REGIONAL = {"pt": ({"BR": "pt_BR"}, "pt_PT", "pt_BR")}


def N_(msgid: str) -> str:
    """Mark a message id for extraction where it is translated later (data tables)."""
    return msgid


class Messages:
    """Translate and format the messages of one language."""

    def __init__(self, locale: str, catalog_name: str, catalog: gettext.NullTranslations) -> None:
        """Use `catalog` (the one called `catalog_name`, e.g. 'pt_PT'); `locale` formats money
        (e.g. 'fr-CA')."""
        self.locale = locale
        self.catalog_name = catalog_name
        self._catalog = catalog

    @property
    def language(self) -> str:
        """The language spoken, as a BCP 47 tag: 'fr', or 'pt-PT' / 'pt-BR' where a language
        has a catalog per region (what `lang` attributes and the API's `language` carry)."""
        return self.catalog_name.replace("_", "-")

    @property
    def requested(self) -> str:
        """The language the customer's locale asks for ('ko' for 'ko-KR')."""
        return _language_of(self.locale)

    @property
    def fallback(self) -> bool:
        """Whether the requested language has no catalog, so English is used."""
        return self.catalog_name == DEFAULT_LANGUAGE and self.requested != DEFAULT_LANGUAGE

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
        return _money_format(self.locale, currency)(amount)

    def number(self, value: Decimal) -> str:
        """Write a decimal with the locale's separators, keeping its digits ('1,50' in German)."""
        return _symbols(self.locale)(f"{value:,f}")

    def duration(self, seconds: int) -> str:
        """Say a duration in its largest whole unit ('1 Stunde', '90 minutes', '45 seconds')."""
        for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
            if seconds and seconds % size == 0:
                return _unit(seconds // size, unit, self.locale)
        return _unit(seconds, "second", self.locale)

    def percent(self, share: Decimal) -> str:
        """Write a share as a whole percentage for the locale ('42 %' in French)."""
        whole = (share * 100).quantize(Decimal(1), ROUND_HALF_UP) / 100
        return format_percent(whole, locale=_babel_locale(self.locale))


def messages_for(locale: str) -> Messages:
    """Return the messages for a customer's locale ('fr-CA' -> French, 'pt-AO' -> European
    Portuguese), English if unknown."""
    name = catalog_for(locale) or DEFAULT_LANGUAGE
    return Messages(locale, name, _catalog(name))


def catalog_for(locale: str) -> str | None:
    """The catalog a locale reads ('fr' for 'fr-CA', 'pt_PT' for 'pt-MZ', 'pt_BR' for 'pt-BR'
    and 'pt'), or None when its language has none."""
    language = _language_of(locale)
    regional = REGIONAL.get(language)
    if regional is not None:
        by_region, other_regions, no_region = regional
        region = _region_of(locale)
        return no_region if region is None else by_region.get(region, other_regions)
    return language if language in LANGUAGES else None


def _language_of(locale: str) -> str:
    """The language part of a locale ('fr' for 'fr_CA' or 'fr-CA')."""
    return locale.replace("_", "-").split("-")[0].lower()


def _region_of(locale: str) -> str | None:
    """The region of a locale ('BR' for 'pt-BR', 'pt_br' or 'pt-Latn-BR'), None without one:
    BCP 47's region subtag is two letters or three digits, after the language (and script)."""
    for part in locale.replace("_", "-").split("-")[1:]:
        if (len(part) == 2 and part.isalpha()) or (len(part) == 3 and part.isdigit()):
            return part.upper()
    return None


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


def _unit(value: int, unit: str, locale: str) -> str:
    """Format `value` of a duration unit ('day', 'hour', ...) in words for the locale."""
    return format_unit(value, f"duration-{unit}", length="long", locale=_babel_locale(locale))


# Amounts a money format is checked on against Babel before it is trusted (see _money_format).
_PROBES = tuple(
    Decimal(v) for v in ("0", "0.5", "7", "12.345", "999.995", "1234.5", "-1234.5", "9876543.21")
)


@cache
def _symbols(locale: str):  # type: ignore[no-untyped-def]
    """Return a function swapping Python's ',' and '.' for the locale's group and decimal."""
    babel_locale = _babel_locale(locale)
    table = str.maketrans(
        {",": get_group_symbol(babel_locale), ".": get_decimal_symbol(babel_locale)}
    )
    return lambda text: text.translate(table)


@cache
def _money_format(locale: str, currency: str):  # type: ignore[no-untyped-def]
    """Return a function formatting amounts of `currency` for `locale` exactly as Babel does.

    Babel's `format_currency` costs ~30 us a call, and a decision writes money into the reason
    of every plan the cap drops (often dozens). Most locales' currency pattern is a prefix and
    a suffix around a number grouped by three, which Python's own formatting writes in ~2 us;
    that shortcut is taken only when it gives Babel's text on every probe amount.
    """
    babel_locale = _babel_locale(locale)
    symbol = get_currency_symbol(currency, babel_locale)

    def slow(amount: Decimal) -> str:
        return _currency_spacing(format_currency(amount, currency, locale=babel_locale), symbol)

    pattern = babel_locale.currency_formats["standard"]
    affixes = "".join(pattern.prefix + pattern.suffix)
    if pattern.grouping != (3, 3) or pattern.scale != 0 or "'" in affixes or "¤¤" in affixes:
        return slow
    prefix = tuple(p.replace("¤", symbol) for p in pattern.prefix)
    suffix = tuple(p.replace("¤", symbol) for p in pattern.suffix)
    digits = get_currency_precision(currency)
    quantum = Decimal(1).scaleb(-digits)
    spec = f",.{digits}f"
    group, decimal = get_group_symbol(babel_locale), get_decimal_symbol(babel_locale)
    table = None if (group, decimal) == (",", ".") else str.maketrans({",": group, ".": decimal})

    def fast(amount: Decimal) -> str:
        sign = int(amount.is_signed())
        number = format(abs(amount).quantize(quantum, ROUND_HALF_EVEN), spec)
        text = prefix[sign] + (number.translate(table) if table else number) + suffix[sign]
        return _currency_spacing(text, symbol)

    return fast if all(fast(p) == slow(p) for p in _PROBES) else slow


def _currency_spacing(text: str, symbol: str) -> str:
    """Apply CLDR's currency spacing, which Babel leaves out: a symbol whose edge is a letter
    (`USD`, not `$` or `€`) next to a digit is set apart by a no-break space, so es-MX reads
    `USD 89.99` (as ICU writes it), not `USD89.99`."""
    at = text.find(symbol)
    if at < 0 or not symbol:
        return text
    end = at + len(symbol)
    if end < len(text) and text[end].isdigit() and _letter_like(symbol[-1]):
        text = text[:end] + "\u00a0" + text[end:]
    if at > 0 and text[at - 1].isdigit() and _letter_like(symbol[0]):
        text = text[:at] + "\u00a0" + text[at:]
    return text


def _letter_like(char: str) -> bool:
    """CLDR's currencyMatch `[[:^S:]&[:^Z:]]`: neither a symbol nor a separator."""
    return unicodedata.category(char)[0] not in "SZ"


@cache
def _catalog(name: str) -> gettext.NullTranslations:
    """Read a catalog's .po file once (English ids translate to themselves)."""
    path = resources.files("remedy") / "translations" / name / "LC_MESSAGES" / "messages.po"
    if not path.is_file():
        return gettext.NullTranslations()
    with path.open("rb") as source:
        catalog = read_po(source, locale=name)
    compiled = io.BytesIO()
    write_mo(compiled, catalog)
    compiled.seek(0)
    return gettext.GNUTranslations(compiled)
