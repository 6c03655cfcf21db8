"""Which part of the caps document governs each slice, and which term binds (default caps)."""

from decimal import Decimal

from remedy.decisions.governing import governing, reach, slice_of
from remedy.whatif.explain import why_unchanged
from remedy.whatif.paths import get_path
from tests.factories import default_caps, make_incident

DEFAULT_LOSS = "incident_caps.default.loss_multiple"


def test_a_slice_without_overrides_takes_the_defaults():
    found = slice_of(default_caps(), 2, "company")
    assert found.overrides == ()
    assert found.terms["loss_multiple"].value == Decimal("2")
    assert found.terms["loss_multiple"].source == "default"
    assert found.absolute["EUR"].path == "incident_caps.default.absolute.EUR"


def test_later_overrides_win_term_by_term():
    severe = slice_of(default_caps(), 4, "company")
    assert severe.overrides == (1, 2)
    assert severe.terms["loss_multiple"].value == Decimal("4")
    assert severe.terms["loss_multiple"].path == "incident_caps.overrides.2.set.loss_multiple"
    assert severe.terms["value_share"].source == "override 2"
    assert severe.absolute["EUR"].value == Decimal("10000.00")
    customer = slice_of(default_caps(), 3, "customer")
    assert customer.overrides == (0, 3)
    assert customer.terms["value_share"].value == Decimal("0.05")
    assert customer.absolute["EUR"].source == "default"  # no override sets an absolute here


def test_the_default_loss_multiple_governs_only_low_severities_not_at_the_customers_fault():
    slices = governing(default_caps())
    assert len(slices) == 5 * 4
    governed = {(s.severity, s.fault_type) for s in reach(slices, DEFAULT_LOSS)}
    assert governed == {(s, f) for s in (1, 2) for f in ("company", "partner", "unknown")}


def test_logged_incidents_count_per_slice_with_the_term_that_set_their_cap():
    incidents = [
        make_incident(severity=2, loss_amount="60.00", customer_value="5000.00"),  # 120 by loss
        make_incident(severity=2, loss_amount="400.00", customer_value="1000.00"),  # 100 by share
        make_incident(severity=2, loss_amount="400.00", customer_value="9000.00"),  # 500 absolute
        make_incident(severity=2, currency="XAF"),  # no caps in XAF: left out
    ]
    found = next(
        s
        for s in governing(default_caps(), incidents)
        if s.severity == 2 and s.fault_type == "company"
    )
    assert found.incidents == 3
    assert found.as_dict()["binding"] == {"loss_multiple": 1, "value_share": 1, "absolute": 1}


def test_an_overridden_default_is_explained():
    incidents = [make_incident(severity=4), make_incident(severity=3, fault_type="customer")]
    why = why_unchanged("incident_caps.default.value_share", default_caps(), incidents)
    assert why.startswith("incident_caps.default.value_share is overridden in every slice the 2")
    assert "severity 4 company by override 2" in why
    assert "severity 3 customer by override 3" in why


def test_a_term_that_governs_but_never_binds_is_explained():
    incidents = [make_incident(severity=2, loss_amount="60.00", customer_value="5000.00")]
    why = why_unchanged("incident_caps.default.value_share", default_caps(), incidents)
    assert "governs 1 replayed decision(s) but set the cap of none" in why
    assert "loss_multiple 1" in why


def test_get_path_reads_lists_and_dicts():
    document = default_caps().document
    assert get_path(document, "incident_caps.overrides.2.set.loss_multiple") == "4"
    assert get_path(document, "incident_caps.overrides.9.set") is None


def test_an_overridden_absolute_cap_names_the_override():
    incidents = [make_incident(severity=4)]
    why = why_unchanged("incident_caps.default.absolute.EUR", default_caps(), incidents)
    assert "(severity 4 company by override 2)" in why
