"""The incidents the client tests send: a simple one an agent decides alone, and one that needs
finance's approval."""

from __future__ import annotations

APPROVAL = {  # severe, ours, a valuable customer who threatens to leave: needs approval
    "customer_id": "c-vip",
    "severity": 5,
    "fault_type": "company",
    "customer_value": "20000.00",
    "loss_amount": "300.00",
    "currency": "EUR",
    "churn_threat": True,
    "external_id": "TICKET-7",
}
SIMPLE = {
    "customer_id": "c-42",
    "severity": 4,
    "fault_type": "company",
    "customer_value": "2400.00",
    "loss_amount": "80.00",
    "currency": "EUR",
    "locale": "fr-FR",
}
