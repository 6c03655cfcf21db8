"""The HTTP API: one flask-smorest blueprint per resource; views parse and serialise only."""
