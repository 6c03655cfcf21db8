"""A bare Flask JSON endpoint: the floor the recommendation API is compared against."""

from flask import Flask, request

app = Flask(__name__)


@app.post("/echo")
def echo():  # type: ignore[no-untyped-def]
    """Parse the JSON body and answer a small JSON object."""
    body = request.get_json()
    return {"ok": True, "keys": len(body)}, 201
