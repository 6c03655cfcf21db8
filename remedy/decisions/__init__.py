"""The decision pipeline: rules -> planner -> ranker -> guardrails. Plain Python, no Flask."""
