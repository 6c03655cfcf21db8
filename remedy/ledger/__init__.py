"""Budgets and the ledger in plain Python: periods, pacing, limit checks, verification.

Nothing here touches the database or Flask; `remedy.ledger.budgets` and
`remedy.ledger.book` feed it rows and act on its answers.
"""
