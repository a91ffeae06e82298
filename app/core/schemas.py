r"""Schemas shared by every domain: the error shape, pagination, and small nested objects.

Request schemas derive from ``RequestSchema`` so the document states what the server checks (no NUL).
Patterns read alike in Python's ``re`` and JSON Schema's ECMA regexes: ``^...$`` checked by ``FullMatch``,
no ``\s`` or ``\w`` (they differ between the two), only ``\xNN``/``\uNNNN`` escapes.
"""

from functools import cached_property

from marshmallow import EXCLUDE, Schema, ValidationError, fields, pre_load, validate

from app.internals.marshmallow import compile_dump, compile_many

MAX_ID = 2**31 - 1

# Examples shown by /docs and /redoc (field metadata only): realistic values the server would accept or send.
EXAMPLE_EMAIL = "ada@example.com"
EXAMPLE_PASSWORD = "plum tractor sings"  # not a commonly used password: signup accepts it
EXAMPLE_NAME = "Ada Lovelace"
EXAMPLE_PHONE = "+79991234567"
EXAMPLE_TIME = "2026-11-23T09:30:00.123456+00:00"
# Shaped like the server's, signed with another key.
EXAMPLE_ACCESS_TOKEN = (
    "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiI0MiIsInR5cGUiOiJhY2Nlc3MiLCJqdGkiOiI2ZjFjMmE5ZS00YjdkLTRlMGEt"
    "OWM1NS0yZDhlMWYzYjdhMTAiLCJpYXQiOjE3OTU0MjYyMDAsImV4cCI6MTc5NTQyNzEwMH0."
    "toEMQNBvO0R1a_fQHccbycQbPAnudv1GGKGaf1DtrF0")
EXAMPLE_REFRESH_TOKEN = (
    "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiI0MiIsInR5cGUiOiJyZWZyZXNoIiwianRpIjoiYjNlOGQ0ZjItOTFhNi00YzNl"
    "LThmMDctNWEyYzlkMWU2YjQ4IiwiaWF0IjoxNzk1NDI2MjAwLCJleHAiOjE3OTgwMTgyMDB9."
    "cXq6gLpoU9T5XRfWV15nQaJQzl-ajnYg6RmtAFTzCcg")
EXAMPLE_CURSOR = "WyIyMDI2LTExLTIzVDA5OjMwOjAwLjEyMzQ1NiswMDowMCIsMTdd.fnU955oaloQKHC2sPTe9CyolSto"

# The characters Python's str.strip() removes (str.isspace()), as a character class body. ECMA's \s is
# another set (it has U+FEFF, and lacks U+001C..U+001F and U+0085), so the set is spelt out.
WHITESPACE = r"\t\n\x0b\x0c\r\x1c-\x20\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
# Any text without NUL (which app.core.parsing refuses in every body: PostgreSQL cannot store it).
NO_NUL = r"^[^\x00]*$"
# Text with at least one character that trimming keeps, and no NUL.
NOT_BLANK = rf"^[^\x00]*[^{WHITESPACE}\x00][^\x00]*$"
# What pagination.encode_cursor issues: itsdangerous' URL-safe payload (a leading "." when
# compressed), a dot, the signature. ASCII only, so a cursor always fits in a request line.
CURSOR_PATTERN = r"^\.?[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$"
CURSOR_MAX = 512


class ResponseSchema(Schema):
    """What the server sends: dumped by a plan compiled at the first dump (``app.internals.marshmallow``),
    or by marshmallow when the schema needs it. Every response schema derives from this one."""

    @cached_property
    def _dump_one(self):
        return compile_dump(self)

    @cached_property
    def _dump_many(self):
        return compile_many(self)

    def dump(self, obj, *, many: bool | None = None):
        many = self.many if many is None else bool(many)
        plan = self._dump_many if many else self._dump_one
        return super().dump(obj, many=many) if plan is None else plan(obj)


class ErrorBodySchema(ResponseSchema):
    status = fields.Integer(required=True, validate=validate.Range(min=400, max=599), metadata={"example": 422})
    code = fields.String(required=True, validate=validate.Regexp(r"^[a-z][a-z0-9]*(_[a-z0-9]+)*$"), metadata={
        "description": "Stable snake_case error code", "example": "validation_error"})
    message = fields.String(required=True, metadata={"example": "The request is not valid."})
    field_errors = fields.Dict(
        data_key="fields", keys=fields.String(), values=fields.Raw(),
        metadata={"description": "Per-field messages, for validation errors",
                  "example": {"email": ["Not a valid email address."]}},
    )
    request_id = fields.String(metadata={
        "description": "The request's id, also in the `X-Request-ID` header: quote it when reporting a problem",
        "example": "7f3c2a9e4b1d4e0a9c552d8e1f3b7a10"})
    retry_after = fields.Integer(validate=validate.Range(min=0), metadata={
        "description": "429 only: seconds to wait before trying again (as the `Retry-After` header)", "example": 55})
    attempts_left = fields.Integer(validate=validate.Range(min=0), metadata={
        "description": "`invalid_code` only: wrong codes this code still allows", "example": 4})
    checks = fields.Dict(keys=fields.String(), values=fields.String(), metadata={
        "description": "`not_ready` only (`/readyz`): each dependency and what is wrong with it, or `ok`",
        "example": {"database": "ok", "redis": "unreachable"}})


class ErrorSchema(ResponseSchema):
    error = fields.Nested(ErrorBodySchema, required=True)


class FullMatch(validate.Regexp):
    """``validate.Regexp`` matching the whole value, as JSON Schema reads an anchored ``pattern``.

    (``re.match`` with ``$`` would also accept one trailing newline; apispec writes the pattern all the same.)
    """

    def __call__(self, value):
        if self.regex.fullmatch(value) is None:
            raise ValidationError(self.error.format(input=value, regex=self.regex.pattern))  # as Regexp words it
        return value


class RequestSchema(Schema):
    """What a client sends: the document states that its strings hold no NUL (see ``app.core.openapi``).

    ``json_schema`` (a class attribute) adds JSON Schema keywords apispec cannot derive from the
    fields, such as ``minProperties`` (see ``app.core.openapi.SchemaExtrasPlugin``).
    """

    json_schema: dict = {}


class TrimmedSchema(RequestSchema):
    """A request body whose text values are trimmed before validation (passwords are kept as typed).

    Lengths are those of the value as sent, as the document's ``maxLength`` says: a value longer
    than its field allows is not trimmed, and so is refused whatever spaces it holds.
    """

    @pre_load
    def trim(self, data, **kwargs):
        if not isinstance(data, dict):
            return data  # a list or a scalar: marshmallow answers "Invalid input type."
        return {key: value.strip() if isinstance(value, str) and "password" not in key
                and len(value) <= self._max_length(key) else value
                for key, value in data.items()}

    def _max_length(self, data_key) -> float:
        return self._max_lengths.get(data_key, float("inf"))

    @cached_property
    def _max_lengths(self) -> dict:
        """Each field's ``Length`` maximum by its key in the body, read once per schema instance."""
        limits = {}
        for name, field in self.load_fields.items():
            maxima = [v.max for v in field.validators if isinstance(v, validate.Length) and v.max is not None]
            if maxima:
                limits[field.data_key or name] = min(maxima)
        return limits


class QuerySchema(RequestSchema):
    """Query strings tolerate unknown parameters (cache busters, tracking tags); a known one is given once."""

    class Meta:
        unknown = EXCLUDE

    @pre_load
    def ascii_integers(self, data, **kwargs):
        """Integers (ids, limits) in ASCII digits only (SPEC 3): the ``int()`` under them reads any Unicode digit."""
        refused = {key: ["Not a valid integer."] for key in self._integer_keys
                   if isinstance(data.get(key), str) and not data.get(key).isascii()}
        if refused:
            raise ValidationError(refused)
        return data

    @cached_property
    def _integer_keys(self) -> tuple:
        return tuple(field.data_key or name for name, field in self.load_fields.items()
                     if isinstance(field, fields.Integer))


class PageArgsSchema(QuerySchema):
    limit = fields.Integer(load_default=20, validate=validate.Range(min=1, max=100), metadata={"example": 20})
    # No example: a cursor is only valid as the server issued it (the previous page's next_cursor).
    # The pattern is the shape of every cursor issued; one of that shape not issued here is 400 invalid_cursor.
    cursor = fields.String(load_default=None, validate=validate.Length(min=1, max=CURSOR_MAX),
                           metadata={"description": "The previous page's `next_cursor` (400 `invalid_cursor` "
                                                    "for any other value)",
                                     "pattern": CURSOR_PATTERN})


class UserRefSchema(ResponseSchema):
    id = fields.Integer(required=True, metadata={"example": 7})
    name = fields.String(allow_none=True, metadata={"example": "Grace Hopper"})


def page_schema(item_schema: type[Schema], name: str) -> type[Schema]:
    """The ``{items, next_cursor}`` envelope for a list of ``item_schema``."""
    return ResponseSchema.from_dict(
        {
            "items": fields.List(fields.Nested(item_schema), required=True),
            "next_cursor": fields.String(allow_none=True, required=True, metadata={
                "description": "Pass as `cursor` for the next page; null on the last", "example": EXAMPLE_CURSOR}),
        },
        name=name,
    )


def text_field(max_length: int, **kwargs):
    """Trimmed text (in a ``TrimmedSchema``): 1..``max_length`` characters as sent, not only whitespace."""
    return fields.String(validate=[validate.Length(min=1, max=max_length), FullMatch(NOT_BLANK,
                         error="Must hold a character other than whitespace.")], **kwargs)


def name_field(**kwargs):
    """A display name: trimmed, 1..100 characters, not only whitespace."""
    return text_field(100, **kwargs)


def email_field(**kwargs):
    return fields.Email(validate=validate.Length(max=254), **kwargs)
