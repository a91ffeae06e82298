"""Compiled dump plans (``app.internals.marshmallow``) give exactly what marshmallow's own ``dump`` gives."""

import importlib
import pkgutil
from datetime import datetime, timedelta, timezone
from types import SimpleNamespace

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from marshmallow import Schema, fields, post_dump

import app as app_package
from app.internals.marshmallow import compile_dump, compile_many
from app.core.schemas import ResponseSchema


def response_schemas() -> list[type[ResponseSchema]]:
    """Every response schema the app defines (its domains' schemas modules, and the page envelopes)."""
    for module in pkgutil.walk_packages(app_package.__path__, "app."):
        if module.name.endswith(".schemas"):
            importlib.import_module(module.name)
    found, pending = set(), [ResponseSchema]
    while pending:
        for subclass in pending.pop().__subclasses__():
            if subclass not in found:
                found.add(subclass)
                pending.append(subclass)
    return sorted(found, key=lambda cls: (cls.__module__, cls.__name__))


SCHEMAS = response_schemas()
TIMES = st.datetimes(min_value=datetime(1970, 1, 2), max_value=datetime(2100, 1, 1),
                     timezones=st.sampled_from([timezone.utc, timezone(timedelta(hours=3))]))
JSON = st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=5),
                    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=3), children,
                                                                                        max_size=3), max_leaves=6)


def values_for(field: fields.Field, depth: int = 0):
    """Values a service might hand a field: of its type, None, and for some types the loose ones marshmallow converts."""
    if isinstance(field, fields.Nested):
        one = objects_for(field.schema, depth + 1)
        return st.none() | (st.lists(one, max_size=3) if field.many or field.schema.many else one)
    if isinstance(field, fields.List):
        return st.none() | st.lists(values_for(field.inner, depth + 1).filter(lambda v: v is not None)
                                    if isinstance(field.inner, fields.Nested) else values_for(field.inner, depth + 1),
                                    max_size=3)
    if isinstance(field, fields.Boolean):
        return st.none() | st.booleans() | st.sampled_from([0, 1, "true", "no", 2])
    if isinstance(field, fields.Integer):
        return st.none() | st.integers(-2**40, 2**40) | st.booleans()
    if isinstance(field, fields.DateTime):
        return st.none() | TIMES
    if isinstance(field, fields.String):
        return st.none() | st.text(max_size=8) | st.integers()
    if isinstance(field, fields.Dict):
        return st.none() | st.dictionaries(st.text(max_size=4), JSON, max_size=3)
    return JSON


def nest(path: tuple[str, ...], value, into: dict) -> None:
    for part in path[:-1]:
        into = into.setdefault(part, {})
    into[path[-1]] = value


def as_objects(value, draw):
    """Turn some of the generated dicts into attribute objects (services hand over rows and models too)."""
    if isinstance(value, dict) and draw(st.booleans()):
        return SimpleNamespace(**{key: as_objects(item, draw) for key, item in value.items()
                                  if key.isidentifier()})
    return value


def objects_for(schema: Schema, depth: int = 0):
    @st.composite
    def build(draw):
        data: dict = {}
        for name, field in schema.dump_fields.items():
            if depth > 2 or draw(st.integers(0, 5)) == 0:
                continue  # missing: left out of the dump
            path = tuple((field.attribute or name).split("."))
            nest(path, draw(values_for(field, depth)), data)
        return as_objects(data, draw)
    return build()


def outcome(dump, obj):
    """What dumping ``obj`` gives, or the type of the error it raises: a plan must fail where marshmallow
    fails (a dict without ``items`` yields its ``items`` method, which is not a list)."""
    try:
        return dump(obj)
    except Exception as error:
        return type(error)


def marshmallow_dump(monkeypatch, schema: Schema, obj, many: bool):
    """``Schema.dump`` as marshmallow does it, nested schemas included (no plan anywhere)."""
    with monkeypatch.context() as patch:
        patch.setattr(ResponseSchema, "dump", Schema.dump)
        return outcome(lambda value: schema.dump(value, many=many), obj)


def test_every_response_schema_of_the_api_has_a_plan():
    assert len(SCHEMAS) >= 20
    missing_plans = [cls.__name__ for cls in SCHEMAS if compile_dump(cls()) is None]
    assert missing_plans == []


@pytest.mark.parametrize("schema_class", SCHEMAS, ids=lambda cls: cls.__name__)
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_a_plan_dumps_what_marshmallow_dumps(monkeypatch, schema_class, data):
    schema = schema_class()
    obj = data.draw(objects_for(schema))
    assert outcome(compile_dump(schema), obj) == marshmallow_dump(monkeypatch, schema, obj, many=False)
    items = data.draw(st.none() | st.lists(objects_for(schema), max_size=3))
    assert outcome(compile_many(schema), items) == marshmallow_dump(monkeypatch, schema, items, many=True)
    assert outcome(schema.dump, obj) == marshmallow_dump(monkeypatch, schema, obj, many=False)


class WithHook(ResponseSchema):
    id = fields.Integer()

    @post_dump
    def mark(self, data, **kwargs):
        return {**data, "hooked": True}


class WithMethod(ResponseSchema):
    id = fields.Integer()
    twice = fields.Method("double")

    def double(self, obj):
        return obj["id"] * 2


class Tree(ResponseSchema):
    name = fields.String()
    children = fields.List(fields.Nested(lambda: Tree()))


@pytest.mark.parametrize("schema, obj, expected", [
    (WithHook(), {"id": 1}, {"id": 1, "hooked": True}),
    (WithMethod(), {"id": 2}, {"id": 2, "twice": 4}),
    (Tree(), {"name": "a", "children": [{"name": "b", "children": []}]},
     {"name": "a", "children": [{"name": "b", "children": []}]}),
])
def test_a_schema_a_plan_cannot_follow_is_dumped_by_marshmallow(schema, obj, expected):
    assert compile_dump(schema) is None
    assert schema.dump(obj) == expected


def test_defaults_data_keys_and_dotted_attributes_are_honoured():
    class Shaped(ResponseSchema):
        ident = fields.Integer(attribute="user.id", data_key="id")
        label = fields.String(dump_default="none")
        gone = fields.String()

    assert Shaped().dump({"user": {"id": "7"}}) == {"id": 7, "label": "none"}
    assert Shaped().dump({"user": SimpleNamespace(id=8), "label": None}) == {"id": 8, "label": None}
