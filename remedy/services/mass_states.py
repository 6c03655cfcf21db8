"""A mass incident's states, its customers' states, its job kinds and its bounds: the words the
service (remedy/services/mass_incidents.py), its jobs (mass_jobs.py), its summary
(mass_summary.py) and its API share."""

from __future__ import annotations

DECIDE_KIND = "mass_incident.decide"
RESERVE_KIND = "mass_incident.reserve"
# Who reads a mass incident's jobs: who reads the mass incident (the team scope applies too).
JOB_ROLE = "lead,finance"
DECIDING, READY, RESERVING = "deciding", "ready", "reserving"
RESERVED, PARTLY_RESERVED, FAILED = "reserved", "partly_reserved", "failed"
STATUSES = (DECIDING, READY, RESERVING, RESERVED, PARTLY_RESERVED, FAILED)
# Customer states.
PENDING, DECIDED, REFUSED, SKIPPED = "pending", "decided", "refused", "skipped"
CUSTOMER_STATES = (PENDING, DECIDED, RESERVED, REFUSED, SKIPPED)
CHUNK_SIZE = 200  # customers reserved in one transaction
DECIDE_BATCH = 50  # customers decided, then written in one short transaction
MAX_LISTED = 500
