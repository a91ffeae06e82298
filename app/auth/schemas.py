"""Request and response bodies of the auth endpoints."""

from marshmallow import Schema, fields, validate

from app.schemas import TrimmedSchema, email_field, name_field, new_password_field
from app.users.schemas import ProfileSchema


class SignupSchema(TrimmedSchema):
    email = email_field(required=True)
    password = new_password_field(required=True)
    name = name_field(load_default=None, allow_none=True)


class LoginSchema(Schema):
    email = fields.String(required=True, validate=validate.Length(min=1, max=254))
    password = fields.String(required=True, validate=validate.Length(min=1, max=128))


class LogoutSchema(Schema):
    refresh_token = fields.String(load_default=None, validate=validate.Length(min=1, max=4096))


class SessionSchema(Schema):
    user = fields.Nested(ProfileSchema, required=True)
    access_token = fields.String(required=True)
    refresh_token = fields.String(required=True)


class AccessTokenSchema(Schema):
    access_token = fields.String(required=True)


class PhoneCodeRequestSchema(Schema):
    phone = fields.String(required=True, validate=validate.Length(min=1, max=32),
                          metadata={"description": "E.164 (+79991234567), or national with PHONE_DEFAULT_REGION"})


class PhoneCodeSentSchema(Schema):
    phone = fields.String(required=True, metadata={"description": "The number in E.164"})
    expires_in = fields.Integer(required=True, metadata={"description": "Seconds the code stays valid"})
    resend_after = fields.Integer(required=True, metadata={"description": "Seconds before another code may be asked"})


class PhoneVerifySchema(Schema):
    phone = fields.String(required=True, validate=validate.Length(min=1, max=32))
    code = fields.String(required=True, validate=validate.Regexp(r"^[0-9]{4}$", error="The code is 4 digits."))


class PhoneSessionSchema(SessionSchema):
    created = fields.Boolean(required=True, metadata={"description": "True when this code created the account"})
