"""The catalog loads, prices items exactly, and refuses malformed items by name."""

from decimal import Decimal

import pytest

from catalog.items import NotPriceable, load_catalog
from catalog.validation import DataFileError
from remedy.domain import Kind
from remedy.i18n import LANGUAGES
from remedy.presenting import Presenter
from tests.factories import default_catalog, default_document, make_incident


def test_default_catalog_has_every_required_remedy():
    catalog = default_catalog()
    ids = {item.id for item in catalog.items}
    assert {
        "apology",
        "refund_half",
        "refund_full",
        "credit",
        "replacement",
        "expedite",
        "upgrade",
        "gift_1x",
        "gift_2x",
        "gift_3x",
        "gift_5x",
        "gift_companions",
        "contact_agent",
        "contact_manager",
        "contact_executive",
    } <= ids
    assert {item.kind for item in catalog.items} == set(Kind)
    labels = {item.id: item.labels for item in catalog.items}
    english = Presenter("en", labels=labels)
    for language in set(LANGUAGES) - {"en"}:
        say = Presenter(language, labels=labels)
        for item in catalog.items:
            assert say.label(item.id) != english.label(item.id), (
                f"{item.id} lacks a {language} label"
            )


def test_a_label_in_the_document_wins_over_the_translations():
    """An item an admin adds may carry its own labels; others go through the catalogs."""
    document = default_document("catalog")
    gift = next(i for i in document["items"] if i["id"] == "gift_2x")
    gift["labels"] = {"en": "Gift worth twice the loss", "de": "Ein doppelt so großes Geschenk"}
    item = load_catalog(document).item("gift_2x")

    def label(labels, locale):  # type: ignore[no-untyped-def]
        return Presenter(locale, labels={"gift_2x": labels}).label("gift_2x")

    assert label(item.labels, "de-AT") == "Ein doppelt so großes Geschenk"
    assert label(item.labels, "fr") == "Cadeau d'une valeur de deux fois la perte"
    assert label(item.labels, "ko") == "Gift worth twice the loss"
    gift["labels"] = {"en": "A label no catalog knows"}
    assert label(load_catalog(document).item("gift_2x").labels, "ja") == "A label no catalog knows"


def test_items_are_priced_exactly_from_the_loss():
    catalog = default_catalog()
    incident = make_incident(loss_amount="33.33")
    gift = catalog.item("gift_3x").price(incident, catalog.staff_rates)
    assert gift.value == Decimal("99.99")
    assert gift.cost == Decimal("40.00")  # 40% of 99.99 = 39.996, rounded half up
    half = catalog.item("refund_half").price(incident, catalog.staff_rates)
    assert half.value == Decimal("16.67") and half.cost == Decimal("16.67")


def test_staff_time_is_priced_from_the_levels_rate():
    catalog = default_catalog()
    call = catalog.item("contact_manager").price(make_incident(), catalog.staff_rates)
    assert call.value == Decimal("0.00")
    assert call.cost == Decimal("23.33")  # 20 minutes at 70.00 EUR an hour


def test_zero_decimal_currencies_round_to_whole_units():
    catalog = default_catalog()
    incident = make_incident(currency="JPY", loss_amount="1001", customer_value="150000")
    gift = catalog.item("gift_1x").price(incident, catalog.staff_rates)
    assert gift.cost == Decimal("400")


def test_fixed_price_missing_in_a_currency_is_not_priceable():
    catalog = default_catalog()
    with pytest.raises(NotPriceable, match="BRL"):
        catalog.item("upgrade").price(make_incident(currency="BRL"), catalog.staff_rates)


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda item: item.update(kind="bribe"), "catalog item 'gift_2x': kind"),
        (lambda item: item["value"].update(factor=2.5), "catalog item 'gift_2x': value.factor"),
        (lambda item: item["value"].pop("factor"), "catalog item 'gift_2x': value"),
        (lambda item: item.pop("labels"), "catalog item 'gift_2x': labels"),
        (lambda item: item.update(level="manager"), "catalog item 'gift_2x': level"),
        (
            lambda item: item["cost"].update(basis="staff_time", minutes=5),
            "catalog item 'gift_2x': cost",
        ),
        (
            lambda item: item.update(requires_approval=1),
            "catalog item 'gift_2x': requires_approval",
        ),
        (
            lambda item: item.update(enabled_by_default="yes"),
            "catalog item 'gift_2x': enabled_by_default",
        ),
        (lambda item: item["value"].update(factor="2e0"), "catalog item 'gift_2x': value.factor"),
    ],
)
def test_malformed_item_names_item_and_field(edit, message):
    document = default_document("catalog")
    item = next(i for i in document["items"] if i["id"] == "gift_2x")
    edit(item)
    with pytest.raises(DataFileError) as raised:
        load_catalog(document)
    assert str(raised.value).startswith(message)


def test_duplicate_ids_and_unknown_currencies_are_refused():
    document = default_document("catalog")
    document["items"].append(dict(document["items"][0]))
    with pytest.raises(DataFileError, match="'apology': id: duplicate"):
        load_catalog(document)
    document = default_document("catalog")
    document["items"][5]["value"]["amounts"]["XXY"] = "1.00"
    with pytest.raises(DataFileError, match="unknown currency 'XXY'"):
        load_catalog(document)
