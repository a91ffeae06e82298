"""marshmallow: response schemas dumped by a plan compiled once per schema, not field by field.

Replaces ``Schema.dump`` for ``app.core.schemas.ResponseSchema``: per item, only the value lookup, the
``dump_default``, and the field's own ``_serialize`` (so every field formats as marshmallow formats it).
Relies on ``Schema._hooks``, ``Field._CHECK_ATTRIBUTE`` and ``Field._serialize(value, attr, obj)``; schemas
with dump hooks, their own ``get_attribute`` or ``dict_class``, and ``Method``/``Function`` fields are left
to marshmallow. ``tests/internals/test_marshmallow.py`` holds every response schema to marshmallow's output.
The gain is in bench/README.md ("Library internals"). Written against marshmallow 4.4 (``WRITTEN_AGAINST``).
"""

import inspect
from collections.abc import Callable
from typing import Any

from marshmallow import Schema, fields, missing, post_dump
from marshmallow.decorators import POST_DUMP, PRE_DUMP
from marshmallow.utils import ensure_text_type, get_value

LIBRARY = "marshmallow"
WRITTEN_AGAINST = ">=4.0,<5"

Dump = Callable[[Any], Any]


def compile_dump(schema: Schema, _within: frozenset = frozenset()) -> Dump | None:
    """A function dumping one object as ``schema.dump`` (``many=False``) does; None when ``schema`` needs marshmallow.

    ``_within`` holds the schema classes being compiled around this one: a schema nested in itself
    (directly or not) is left to marshmallow.
    """
    if type(schema) in _within:
        return None
    _within = _within | {type(schema)}
    if schema._hooks[PRE_DUMP] or schema._hooks[POST_DUMP] or schema.dict_class is not dict \
            or type(schema).get_attribute is not Schema.get_attribute:
        return None
    steps = []
    for attr_name, field in schema.dump_fields.items():
        if not field._CHECK_ATTRIBUTE:
            return None
        serialize = value_serializer(field, attr_name, _within)
        if serialize is None:
            return None
        key = field.data_key if field.data_key is not None else attr_name
        path = tuple((field.attribute if field.attribute is not None else attr_name).split("."))
        steps.append((key, path, field.dump_default, *serialize))
    steps = tuple(steps)

    def dump(obj):
        result = {}
        for key, path, default, serialize, with_obj in steps:
            value = obj
            for part in path:
                # marshmallow's own lookup, with a dict's found key taken at once
                value = value[part] if type(value) is dict and part in value else get_value(value, part, missing)
            if value is missing:
                value = default() if callable(default) else default
                if value is missing:
                    continue
            if with_obj:
                result[key] = serialize(value, obj)
            else:
                result[key] = None if value is None else serialize(value)
        return result

    return dump


def compile_many(schema: Schema, _within: frozenset = frozenset()) -> Dump | None:
    """The same for ``many=True``: a list of the dumped items (marshmallow dumps None as if it were one item)."""
    one = compile_dump(schema, _within)
    if one is None:
        return None
    return lambda items: one(items) if items is None else [one(item) for item in items]


def value_serializer(field: fields.Field, attr_name: str, within: frozenset) -> tuple[Callable, bool] | None:
    """How one field dumps a value: ``(function, with_obj)``. With ``with_obj`` the function is the
    field's own ``_serialize`` (for every type not below), taking ``(value, obj)``; else it takes a
    value that is not None (None dumps as None): compiled for exact Nested and List-of-Nested fields,
    and written out for the exact leaf types whose ``_serialize`` converts the value alone."""
    kind = type(field)
    if kind is fields.Nested:
        nested = field.schema
        many = nested.many or field.many
        inner = compile_many(nested, within) if many else compile_dump(nested, within)
        if inner is None:
            return None
        return inner, False
    if kind is fields.List and type(field.inner) is fields.Nested:
        nested = field.inner.schema
        if nested.many or field.inner.many:
            return None  # a list of lists: rare enough to leave to marshmallow
        item = compile_dump(nested, within)
        if item is None:
            return None
        return (lambda value: [None if each is None else item(each) for each in value]), False
    convert = leaf_conversion(field)
    if convert is not None:
        return convert, False
    own = field._serialize
    return (lambda value, obj: own(value, attr_name, obj)), True


def leaf_conversion(field: fields.Field) -> Callable | None:
    """For an exact Raw, String, Integer or DateTime field, what its ``_serialize`` does to a value that is
    not None (each returns None for None); None for any other field."""
    kind = type(field)
    if kind is fields.Raw:
        return lambda value: value
    if kind is fields.String:
        return lambda value: value if type(value) is str else ensure_text_type(value)
    if kind is fields.Integer and not field.as_string:
        return int  # Number._format_num: num_type(value)
    if kind is fields.DateTime:
        data_format = field.format or field.DEFAULT_FORMAT
        return field.SERIALIZATION_FUNCS.get(data_format) or (lambda value: value.strftime(data_format))
    return None


def shape_problems() -> list[str]:
    """What no longer looks as this module expects of marshmallow."""
    class Hooked(Schema):
        @post_dump
        def touch(self, data, **kwargs):
            return data

    problems = []
    hooks = getattr(Schema(), "_hooks", None)
    if not hasattr(hooks, "__getitem__") or hooks[PRE_DUMP] or hooks[POST_DUMP] or not Hooked()._hooks[POST_DUMP]:
        problems.append("Schema._hooks no longer maps PRE_DUMP and POST_DUMP to a schema's dump hooks")
    checks = {kind.__name__: getattr(kind, "_CHECK_ATTRIBUTE", None) for kind in (fields.Field, fields.Method, fields.Function)}
    if checks != {"Field": True, "Method": False, "Function": False}:
        problems.append(f"Field._CHECK_ATTRIBUTE no longer tells the fields that read no attribute: {checks}")
    parameters = list(inspect.signature(fields.Field._serialize).parameters)[:4]
    if parameters != ["self", "value", "attr", "obj"]:
        problems.append(f"Field._serialize takes {parameters}, not (self, value, attr, obj, **kwargs)")
    return problems
