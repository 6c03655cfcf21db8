"""Services: the domain used through a database session. They flush, never commit, and raise
domain errors (remedy.errors), never HTTP ones."""
