"""Finance's tools over logged decisions: what-if replays of proposed settings (plain Python)."""
