"""Request and response bodies of phone sign-in and of the development SMS outbox."""

from marshmallow import fields, validate

from app.auth.schemas import SessionSchema
from app.core.schemas import EXAMPLE_PHONE, EXAMPLE_TIME, FullMatch, QuerySchema, RequestSchema, ResponseSchema

# What may be a phone number: digits with the usual separators, an optional leading +. Whether it is
# one (phonenumbers: a valid number of a real region) JSON Schema cannot say: that is a 422.
PHONE_PATTERN = r"^\+?[0-9][0-9 ().-]{5,30}$"
PHONE_DESCRIPTION = ("E.164 (+79991234567), or national with PHONE_DEFAULT_REGION; "
                     "a number phonenumbers does not find valid is 422")


def phone_field(**kwargs):
    return fields.String(required=True, validate=[
        validate.Length(min=1, max=32), FullMatch(PHONE_PATTERN, error="Not a phone number: digits, an optional +.")],
        **kwargs)


class PhoneCodeRequestSchema(RequestSchema):
    phone = phone_field(metadata={"description": PHONE_DESCRIPTION, "example": EXAMPLE_PHONE})


class PhoneCodeSentSchema(ResponseSchema):
    phone = fields.String(required=True, metadata={"description": "The number in E.164", "example": EXAMPLE_PHONE})
    expires_in = fields.Integer(required=True, metadata={"description": "Seconds the code stays valid", "example": 300})
    resend_after = fields.Integer(required=True, metadata={"description": "Seconds before another code may be asked",
                                                           "example": 60})


class PhoneVerifySchema(RequestSchema):
    phone = phone_field(metadata={"description": PHONE_DESCRIPTION, "example": EXAMPLE_PHONE})
    code = fields.String(required=True, validate=FullMatch(r"^[0-9]{4}$", error="The code is 4 digits."),
                         metadata={"description": "The 4 digits the SMS brought", "example": "4821"})


class PhoneSessionSchema(SessionSchema):
    created = fields.Boolean(required=True, metadata={"description": "True when this code created the account",
                                                      "example": True})


class OutboxArgsSchema(QuerySchema):
    phone = phone_field(metadata={"description": PHONE_DESCRIPTION, "example": EXAMPLE_PHONE})


class SmsSchema(ResponseSchema):
    phone = fields.String(required=True, metadata={"example": EXAMPLE_PHONE})
    body = fields.String(required=True, metadata={"example": "Your Agora code is 4821. It expires in 5 minutes."})
    created_at = fields.DateTime(required=True, metadata={"example": EXAMPLE_TIME})


class OutboxSchema(ResponseSchema):
    items = fields.List(fields.Nested(SmsSchema), required=True)
