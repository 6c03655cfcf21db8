"""Budgets and the ledger in plain Python: periods, pacing, limit checks, verification.

Nothing here touches the database or Flask; `remedy.services.budgets` and
`remedy.services.ledger` feed it rows and act on its answers.
"""
