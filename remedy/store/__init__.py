"""Persistence: typed SQLAlchemy models, the session/unit of work, and Alembic migrations."""
