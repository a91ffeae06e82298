"""Schemas shared by every domain: the error shape, pagination, and small nested objects."""

from marshmallow import EXCLUDE, Schema, fields, pre_load, validate

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


class ErrorBodySchema(Schema):
    status = fields.Integer(required=True, metadata={"example": 422})
    code = fields.String(required=True, metadata={"description": "Stable snake_case error code", "example": "validation_error"})
    message = fields.String(required=True, metadata={"example": "The request is not valid."})
    field_errors = fields.Dict(
        data_key="fields", keys=fields.String(), values=fields.Raw(),
        metadata={"description": "Per-field messages, for validation errors",
                  "example": {"email": ["Not a valid email address."]}},
    )


class ErrorSchema(Schema):
    error = fields.Nested(ErrorBodySchema, required=True)


class TrimmedSchema(Schema):
    """A request body whose text values are trimmed before validation (passwords are kept as typed)."""

    @pre_load
    def trim(self, data, **kwargs):
        if not isinstance(data, dict):
            return data  # a list or a scalar: marshmallow answers "Invalid input type."
        return {key: value.strip() if isinstance(value, str) and "password" not in key else value
                for key, value in data.items()}


class QuerySchema(Schema):
    """Query strings tolerate unknown parameters (cache busters, tracking tags)."""

    class Meta:
        unknown = EXCLUDE


class PageArgsSchema(QuerySchema):
    limit = fields.Integer(load_default=20, validate=validate.Range(min=1, max=100), metadata={"example": 20})
    # No example: a cursor is only valid as the server issued it (the previous page's next_cursor).
    cursor = fields.String(load_default=None, validate=validate.Length(min=1, max=512),
                           metadata={"description": "The previous page's `next_cursor`"})


class UserRefSchema(Schema):
    id = fields.Integer(required=True, metadata={"example": 7})
    name = fields.String(allow_none=True, metadata={"example": "Grace Hopper"})


def page_schema(item_schema: type[Schema], name: str) -> type[Schema]:
    """The ``{items, next_cursor}`` envelope for a list of ``item_schema``."""
    return Schema.from_dict(
        {
            "items": fields.List(fields.Nested(item_schema), required=True),
            "next_cursor": fields.String(allow_none=True, required=True, metadata={
                "description": "Pass as `cursor` for the next page; null on the last", "example": EXAMPLE_CURSOR}),
        },
        name=name,
    )


BEARER_AUTH = [{"bearerAuth": []}]
OPTIONAL_BEARER_AUTH = [{}, {"bearerAuth": []}]


def name_field(**kwargs):
    """A display name: trimmed, 1..100 characters."""
    return fields.String(validate=validate.Length(min=1, max=100), **kwargs)


def email_field(**kwargs):
    return fields.Email(validate=validate.Length(max=254), **kwargs)
