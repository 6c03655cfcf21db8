"""Portuguese as Portugal and as Brazil write it: two catalogs, chosen by the locale's region.

A customer in Portugal (or Angola, Mozambique, ...) reads European Portuguese, one in Brazil
Brazilian Portuguese; a bare 'pt' reads Brazilian, as CLDR's 'pt' is (README, Languages). Each
catalog is held to its own variant: none of the other's forms that the review replaced.
"""

from __future__ import annotations

import re
from decimal import Decimal
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from remedy.i18n import catalog_for, messages_for
from tests.conftest import incident_payload
from tests.factories import set_pool

TRANSLATIONS = Path(__file__).resolve().parent.parent / "remedy" / "translations"

# Forms each variant does not write, as whole words (or patterns), found in the old mixed
# catalog and replaced in the review.
BRAZILIAN_ONLY = (
    r"contatos?",
    r"equipe",
    r"sênior",
    r"gerente",
    r"atendente",
    r"ligação",
    r"aceito",
    r"aguardando",
    r"o financeiro",
    r"você",
    r"a gente",
    r"conosco",
    r"celular",
    r"boca a boca",
    r"indicações",
    r"presente",
    r"por inteiro",
    r"(?:está|estamos|continua|ficar)\s+\w+ndo",  # the gerund: "está sendo gasto"
)
EUROPEAN_ONLY = (
    r"contactos?",
    r"contactar",
    r"equipa",
    r"sénior",
    r"gestor",
    r"aceite",
    r"à espera",
    r"connosco",
    r"telemóvel",
    r"passa-palavra",
    r"hipótese",
    r"as finanças",
    r"dê jeito",
    r"(?:está|estamos|continua|continuamos)\s+a\s+\w+r",  # "está a ser gasto"
)


def _strings(name: str) -> list[str]:
    with open(TRANSLATIONS / name / "LC_MESSAGES" / "messages.po", "rb") as source:
        catalog = read_po(source, locale=name)
    said = []
    for message in catalog:
        if message.id:
            forms = message.string if isinstance(message.string, tuple) else (message.string,)
            said.extend(forms)
    return said


@pytest.mark.parametrize(("name", "foreign"), [("pt_PT", BRAZILIAN_ONLY), ("pt_BR", EUROPEAN_ONLY)])
def test_each_catalog_keeps_to_its_variant(name, foreign):
    strings = _strings(name)
    assert len(strings) > 100
    found = [
        (pattern, text)
        for text in strings
        for pattern in foreign
        if re.search(rf"(?<!\w){pattern}(?!\w)", text, re.IGNORECASE)
    ]
    assert not found, found


def test_both_catalogs_write_the_words_that_differ():
    """The lists above are not vacuous: each catalog writes its own form of the same words."""
    european, brazilian = " ".join(_strings("pt_PT")), " ".join(_strings("pt_BR"))
    for mine in ("contacto", "equipa", "sénior", "reembolso"):
        assert mine in european
    for mine in ("contato", "equipe", "sênior", "reembolso"):
        assert mine in brazilian


@pytest.mark.parametrize(
    ("locale", "catalog"),
    [
        ("pt-PT", "pt_PT"),
        ("pt_PT", "pt_PT"),
        ("pt-AO", "pt_PT"),
        ("pt-MZ", "pt_PT"),
        ("pt-CV", "pt_PT"),
        ("pt-BR", "pt_BR"),
        ("pt_br", "pt_BR"),
        ("pt-Latn-BR", "pt_BR"),
        ("pt", "pt_BR"),  # CLDR's own 'pt' is Brazil's
        ("fr-CA", "fr"),
        ("ko-KR", None),
    ],
)
def test_the_locale_chooses_the_catalog_by_region(locale, catalog):
    assert catalog_for(locale) == catalog
    m = messages_for(locale)
    assert m.language == (catalog or "en").replace("_", "-")
    assert m.fallback is (catalog is None)


def test_money_still_follows_the_full_locale():
    assert messages_for("pt-PT").money(Decimal("1234.5"), "EUR") == "1\xa0234,50\xa0€"
    assert messages_for("pt-BR").money(Decimal("1234.5"), "BRL") == "R$\xa01.234,50"


def _recommend(client, headers, **incident):
    body = {"incident": incident_payload(**incident), "team": "emea", "limit": 5}
    response = client.post("/v1/recommendations", json=body, headers=headers)
    assert response.status_code == 201, response.json
    return response.json


def _points(body) -> str:
    return " ".join(p for plan in body["plans"] for p in plan["talking_points"]["points"])


def test_a_customer_in_portugal_reads_european_and_one_in_brazil_brazilian(app, client, auth):
    set_pool(app, "emea", "10000.00")
    european = _recommend(client, auth(), locale="pt-PT", loss_amount="80.00")
    brazilian = _recommend(client, auth(), locale="pt-BR", loss_amount="80.00")
    for body, tag in ((european, "pt-PT"), (brazilian, "pt-BR")):
        assert body["language"] == tag
        assert {p["talking_points"]["language"] for p in body["plans"]} == {tag}
    # The follow-up: Portugal contacts ("contactar"), Brazil resumes the contact ("contato").
    assert "Volte a contactar o cliente" in _points(european)
    assert "contato" not in _points(european)
    assert "Retome o contato" in _points(brazilian)
    assert "contactar" not in _points(brazilian)
    labels = {a["label"] for p in european["plans"] for a in p["actions"]}
    assert "Pedido de desculpa sincero" in labels
    labels = {a["label"] for p in brazilian["plans"] for a in p["actions"]}
    assert "Pedido de desculpas sincero" in labels
    # an African Portuguese locale reads Portugal's catalog, with its own money format
    angolan = _recommend(client, auth(), locale="pt-AO", loss_amount="80.00")
    assert angolan["language"] == "pt-PT"
    assert "Volte a contactar o cliente" in _points(angolan)


def test_the_reader_asking_for_pt_br_reads_brazilian_while_the_customer_reads_european(
    client, auth
):
    """No pool for emea: the note names the team ("equipe" in Brazil, "equipa" in Portugal)."""
    headers = {**auth(), "Accept-Language": "pt-BR,pt;q=0.9,en;q=0.5"}
    body = _recommend(client, headers, locale="pt-PT")
    assert body["language"] == "pt-BR"
    assert any(n.startswith("não há orçamento para a equipe emea") for n in body["notes"])
    assert {p["talking_points"]["language"] for p in body["plans"]} == {"pt-PT"}
    assert "Volte a contactar o cliente" in _points(body)
    european = _recommend(client, {**auth(), "Accept-Language": "pt-PT"}, locale="pt-BR")
    assert european["language"] == "pt-PT"
    assert any(n.startswith("não há orçamento para a equipa emea") for n in european["notes"])
    decision = client.get(f"/v1/decisions/{body['decision_id']}", headers=headers).json
    assert decision["language"] == "pt-BR"
    assert decision["plans"][0]["talking_points"]["language"] == "pt-PT"
