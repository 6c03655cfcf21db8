"""Dump an answer by a plan compiled once from its marshmallow schema, which stays the contract.

`Schema.dump` walks every field of every nested object through `Field.serialize` (the accessor,
the missing check, the default, then `_serialize`): for a decision's answer, ~400 values, a
tenth of a recommendation's time (benchmarks/README.md). `compile_dumper` reads the same
schema once and returns a function that produces the same dict with plain Python: the common
field types (strings, integers, booleans, raw values, lists, dicts, nested schemas) take a
fast path when the value already has the output type, and every other case calls the field's
own `_serialize`, so the output is the schema's by construction. A schema with dump hooks,
`only`/`exclude` on a nested field or dotted attributes is dumped by marshmallow itself.
`tests/api/test_dumping.py` compares the two on stored decisions.

The OpenAPI document is unchanged: the view keeps `@blp.response(..., Schema)`, and returns a
ready response that flask-smorest passes through.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Response, current_app
from marshmallow import Schema, fields
from marshmallow.utils import missing

Dump = Callable[[Any], Any]


def dumped_response(dump: Dump, answer: Any, status: int) -> Response:
    """The JSON response of `answer` dumped by `dump` (the same JSON flask-smorest writes)."""
    response = current_app.json.response(dump(answer))
    response.status_code = status
    return response


def compile_dumper(schema: Schema | type[Schema]) -> Dump:
    """A function that dumps one object as `schema.dump` does (None when the object is None
    is not its concern: callers pass the object)."""
    instance = schema() if isinstance(schema, type) else schema
    if _has_dump_hooks(instance):
        return instance.dump
    steps: list[tuple[str, str, Dump, Any]] = []
    for name, field in instance.dump_fields.items():
        source = field.attribute if field.attribute is not None else name
        if "." in source or not field._CHECK_ATTRIBUTE:
            return instance.dump  # dotted paths and computed fields: marshmallow's own walk
        key = field.data_key if field.data_key is not None else name
        steps.append((key, source, _value_dumper(field), field.dump_default))

    def dump(obj: Any) -> dict[str, Any]:
        out: dict[str, Any] = {}
        plain = type(obj) is dict  # the presenter's dicts: one lookup a field
        for key, source, convert, default in steps:
            if plain:
                value = obj.get(source, missing)
                if value is missing:  # as marshmallow: a missing key falls back to attributes
                    value = getattr(obj, source, missing)
            else:
                value = _get(obj, source)
            if value is missing:
                value = default() if callable(default) else default
                if value is missing:
                    continue
            out[key] = convert(value)
        return out

    return dump


def _get(obj: Any, key: str) -> Any:
    """marshmallow's accessor (`utils.get_value`) for a plain key: item, else attribute."""
    if not hasattr(obj, "__getitem__"):
        return getattr(obj, key, missing)
    try:
        return obj[key]
    except (KeyError, IndexError, TypeError, AttributeError):
        return getattr(obj, key, missing)


def _has_dump_hooks(schema: Schema) -> bool:
    """Whether the schema changes its dump in pre/post hooks (then marshmallow dumps it)."""
    hooks = getattr(schema, "_hooks", {})
    return any(hooks.get(kind) for kind in hooks if "dump" in str(kind))


def _value_dumper(field: fields.Field) -> Dump:
    """How one field turns a present value into its output (the field's `_serialize`, with a
    fast path for values already of the output type)."""
    own = field._serialize
    kind = type(field)
    if kind is fields.String:
        return lambda v: v if type(v) is str else own(v, None, None)
    if kind is fields.Integer and not field.as_string:
        return lambda v: v if type(v) is int else own(v, None, None)
    if kind is fields.Boolean:
        return lambda v: v if type(v) is bool else own(v, None, None)
    if kind is fields.Raw:
        return lambda v: v
    if kind is fields.Nested and field.only is None and not field.exclude:
        nested = field.schema
        if nested.only is not None or nested.exclude:
            return lambda v: own(v, None, None)
        inner = compile_dumper(nested)
        if field.many or nested.many:
            return lambda v: None if v is None else [inner(each) for each in v]
        return lambda v: None if v is None else inner(v)
    if kind is fields.List:
        each = _value_dumper(field.inner)
        return lambda v: None if v is None else [each(x) for x in v]
    if kind is fields.Dict:
        return _mapping_dumper(field, own)
    return lambda v: own(v, None, None)


def _mapping_dumper(field: fields.Dict, own: Dump) -> Dump:
    """A dict field: keys and values each through their field (as `Mapping._serialize`)."""
    if field.key_field is None and field.value_field is None:
        return lambda v: None if v is None else dict(v)
    if field.key_field is None or type(field.key_field) is not fields.String:
        return lambda v: own(v, None, None)
    key = _value_dumper(field.key_field)
    if field.value_field is None:
        return lambda v: None if v is None else {key(k): x for k, x in v.items()}
    value = _value_dumper(field.value_field)
    return lambda v: None if v is None else {key(k): value(x) for k, x in v.items()}
