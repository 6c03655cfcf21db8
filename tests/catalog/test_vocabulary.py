"""The catalog's closed vocabulary of categories: names, synonyms, and older documents."""

import pytest

from catalog.items import load_catalog
from catalog.validation import DataFileError
from catalog.vocabulary import UnknownCategory, load_vocabulary
from tests.factories import default_document
from training.simulator import _CATEGORIES


def test_the_default_vocabulary_maps_synonyms_to_canonical_names():
    vocabulary = load_catalog(default_document("catalog")).vocabulary
    assert vocabulary.declared
    assert vocabulary.canonical("shipping") == "delivery"
    assert vocabulary.canonical("Late-Delivery") == "delivery"  # case and dashes ignored
    assert vocabulary.canonical("delivery") == "delivery"
    assert vocabulary.canonical("rudeness") == "service_rudeness"
    with pytest.raises(UnknownCategory) as raised:
        vocabulary.canonical("martian")
    assert raised.value.known == vocabulary.names
    assert "billing" in str(raised.value) and "martian" in str(raised.value)
    assert vocabulary.canonical_or_same("martian") == "martian"


def test_every_category_the_default_items_and_the_simulator_use_is_canonical():
    catalog = load_catalog(default_document("catalog"))
    names = set(catalog.vocabulary.names)
    assert {c for item in catalog.items for c in item.categories or ()} <= names
    assert {category for category, _ in _CATEGORIES} <= names


def test_a_document_without_a_vocabulary_gets_the_default_and_its_items_categories():
    document = default_document("catalog")
    del document["categories"]
    replacement = next(i for i in document["items"] if i["id"] == "replacement")
    replacement["categories"] = ["delivery", "returns"]  # free text, accepted before
    vocabulary = load_catalog(document).vocabulary
    assert not vocabulary.declared
    assert "returns" in vocabulary.names and "billing" in vocabulary.names
    assert vocabulary.canonical("shipping") == "delivery"
    with pytest.raises(UnknownCategory):
        vocabulary.canonical("martian")


@pytest.mark.parametrize(
    ("categories", "field", "says"),
    [
        ({"delivery": ["shipping"]}, "categories", "'other' is required"),
        ({"other": [], "Delivery": []}, "categories.Delivery", "lower-case slug"),
        ({"other": [], "delivery": ["billing"], "billing": []}, "categories.delivery", "itself"),
        (
            {"other": [], "delivery": ["post"], "billing": ["post"]},
            "categories.billing",
            "already a synonym of 'delivery'",
        ),
        ({"other": [], "delivery": "shipping"}, "categories.delivery", "list of words"),
        ({"other": [], "delivery": ["ship it!"]}, "categories.delivery", "not a slug"),
        ([], "categories", "mapping"),
    ],
)
def test_a_bad_vocabulary_is_refused_naming_the_field(categories, field, says):
    with pytest.raises(DataFileError) as raised:
        load_vocabulary(categories)
    assert field in raised.value.fields
    assert says in " ".join(raised.value.fields[field])


def test_an_item_naming_a_category_outside_the_vocabulary_is_refused():
    document = default_document("catalog")
    credit = next(i for i in document["items"] if i["id"] == "credit")
    credit["categories"] = ["outage", "shipping"]  # a synonym is not a category
    with pytest.raises(DataFileError, match="catalog item 'credit': categories: 'shipping'"):
        load_catalog(document)


def test_an_item_on_a_channel_no_incident_comes_from_is_refused():
    document = default_document("catalog")
    expedite = next(i for i in document["items"] if i["id"] == "expedite")
    expedite["channels"] = ["chat", "sms"]
    with pytest.raises(DataFileError, match="catalog item 'expedite'.*channels"):
        load_catalog(document)
