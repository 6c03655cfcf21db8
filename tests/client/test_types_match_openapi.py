"""The typed client cannot drift from the API: every type's fields are its schema's, both ways.

When this fails, the message names the schema of /openapi.json and the fields: add the field
to the TypedDict in its module of remedy/client/types/ (a field the API sends), or remove it
there (a field the API no longer has); a new client type is imported in
remedy/client/types/__init__.py and goes into `SCHEMAS` with the schema it mirrors.
"""

from __future__ import annotations

import importlib
import pkgutil
import typing

import pytest

from remedy.client import types


def _client_types() -> dict[str, type]:
    """Every TypedDict defined in the modules of remedy/client/types/, by name."""
    modules = [
        importlib.import_module(f"{types.__name__}.{found.name}")
        for found in pkgutil.iter_modules(types.__path__)
    ]
    return {
        name: value
        for module in modules
        for name, value in vars(module).items()
        if isinstance(value, type)
        and typing.is_typeddict(value)
        and value.__module__ == module.__name__
    }


TYPES = _client_types()


@pytest.fixture(scope="module")
def schemas(tmp_path_factory):
    from remedy import create_app

    folder = tmp_path_factory.mktemp("openapi")
    app = create_app({"DATABASE_URL": f"sqlite:///{folder / 'spec.sqlite'}"})
    spec = app.test_client().get("/openapi.json").json
    return spec["components"]["schemas"]


def test_every_client_type_names_the_schema_it_mirrors(schemas):
    mapped = {value.__name__ for value in types.SCHEMAS.values()}
    unmapped = sorted(set(TYPES) - mapped)
    assert not unmapped, f"client types without a schema in types.SCHEMAS: {', '.join(unmapped)}"
    hidden = sorted(
        name for name, value in TYPES.items() if getattr(types, name, None) is not value
    )
    assert not hidden, f"client types not importable from remedy.client.types: {', '.join(hidden)}"
    unknown = sorted(set(types.SCHEMAS) - set(schemas))
    assert not unknown, f"types.SCHEMAS names schemas /openapi.json lacks: {', '.join(unknown)}"


@pytest.mark.parametrize("schema", sorted(types.SCHEMAS))
def test_a_client_type_has_exactly_its_schemas_fields(schemas, schema):
    client_type = types.SCHEMAS[schema]
    api = set(schemas[schema].get("properties", {}))
    client = set(client_type.__annotations__)
    problems = []
    if api - client:
        problems.append(
            f"/openapi.json schema {schema} has field(s) {', '.join(sorted(api - client))} "
            f"that remedy.client.types.{client_type.__name__} lacks"
        )
    if client - api:
        problems.append(
            f"remedy.client.types.{client_type.__name__} has field(s) "
            f"{', '.join(sorted(client - api))} that /openapi.json schema {schema} lacks"
        )
    assert not problems, "; ".join(problems)


def test_a_nested_schema_is_the_client_type_of_that_schema(schemas):
    """A field that refers to another schema is typed with that schema's client type."""
    by_type = {value.__name__: name for name, value in types.SCHEMAS.items()}
    wrong = []
    for schema, client_type in types.SCHEMAS.items():
        hints = typing.get_type_hints(client_type)
        for field, spec in schemas[schema].get("properties", {}).items():
            refs = _refs(spec)
            if not refs or field not in hints:
                continue
            named = {by_type[t.__name__] for t in _types(hints[field]) if t.__name__ in by_type}
            if named and not named <= refs:
                wrong.append(f"{schema}.{field}: schema {sorted(refs)}, client {sorted(named)}")
    assert not wrong, "; ".join(wrong)


def _refs(spec: dict) -> set[str]:
    """The schema names a property refers to (itself, its items, any of its choices)."""
    found = set()
    if "$ref" in spec:
        found.add(spec["$ref"].rsplit("/", 1)[-1])
    for key in ("items", "additionalProperties"):
        if isinstance(spec.get(key), dict):
            found |= _refs(spec[key])
    for choice in spec.get("anyOf", []) + spec.get("oneOf", []) + spec.get("allOf", []):
        found |= _refs(choice)
    return found


def _types(hint: object) -> list[type]:
    """Every class inside a type hint (list[Action] | None -> [list, Action, NoneType])."""
    found = [hint] if isinstance(hint, type) else []
    for arg in typing.get_args(hint):
        found += _types(arg)
    return found
