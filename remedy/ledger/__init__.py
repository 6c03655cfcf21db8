"""Budgets and the ledger: periods, pacing, limit checks, reservations and their moves.

The rules are plain Python with no Flask (periods.py, pacing.py, limits.py, settings.py,
entries.py, verify.py decide on values they are given). Three modules read and write the
database with SQLAlchemy sessions the caller owns: budgets.py (pools and their state),
book.py (locks and ledger moves) and headroom.py (what is left for one decision, in one
query); none of them commits.
"""
