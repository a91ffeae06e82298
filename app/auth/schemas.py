"""Request and response bodies of the auth endpoints."""

from marshmallow import fields, validate

from app.auth.passwords import new_password_field
from app.core.schemas import (EXAMPLE_ACCESS_TOKEN, EXAMPLE_EMAIL, EXAMPLE_NAME, EXAMPLE_PASSWORD,
                              EXAMPLE_REFRESH_TOKEN, FullMatch, RequestSchema, ResponseSchema, TrimmedSchema,
                              email_field, name_field)
from app.users.schemas import ProfileSchema


class SignupSchema(TrimmedSchema):
    email = email_field(required=True, metadata={"example": EXAMPLE_EMAIL})
    password = new_password_field(required=True, metadata={"example": EXAMPLE_PASSWORD})
    name = name_field(load_default=None, allow_none=True, metadata={"example": EXAMPLE_NAME})


class LoginSchema(RequestSchema):
    email = fields.String(required=True, validate=validate.Length(min=1, max=254), metadata={"example": EXAMPLE_EMAIL})
    password = fields.String(required=True, validate=validate.Length(min=1, max=128),
                             metadata={"example": EXAMPLE_PASSWORD})


class LogoutSchema(RequestSchema):
    refresh_token = fields.String(load_default=None, validate=validate.Length(min=1, max=4096),
                                  metadata={"description": "Also revoked, when given",
                                            "example": EXAMPLE_REFRESH_TOKEN})


class SessionSchema(ResponseSchema):
    user = fields.Nested(ProfileSchema, required=True)
    access_token = fields.String(required=True, metadata={
        "description": "Send as `Authorization: Bearer <token>`; lasts 15 minutes by default",
        "example": EXAMPLE_ACCESS_TOKEN})
    refresh_token = fields.String(required=True, metadata={
        "description": "The bearer token of `POST /api/v1/auth/refresh`; lasts 30 days by default",
        "example": EXAMPLE_REFRESH_TOKEN})


class TokenPairSchema(ResponseSchema):
    access_token = fields.String(required=True, metadata={"example": EXAMPLE_ACCESS_TOKEN})
    refresh_token = fields.String(required=True, metadata={
        "description": "The next refresh token: the one presented is spent, and presenting it again ends the session",
        "example": EXAMPLE_REFRESH_TOKEN})


class ForgotPasswordSchema(TrimmedSchema):
    email = email_field(required=True, metadata={"description": "The account's address: a reset code is mailed "
                                                                "there if an account has it", "example": EXAMPLE_EMAIL})


class ResetPasswordSchema(TrimmedSchema):
    email = email_field(required=True, metadata={"example": EXAMPLE_EMAIL})
    code = fields.String(required=True, validate=[
        validate.Length(min=6, max=6),  # with the pattern: no space around it, as the document says
        FullMatch(r"^[0-9]{6}$", error="The code is 6 digits.")],
        metadata={"description": "The 6 digits of the reset mail", "example": "482913"})
    password = new_password_field(required=True, metadata={"description": "The new password",
                                                           "example": EXAMPLE_PASSWORD})


class AcceptedSchema(ResponseSchema):
    """Nothing to say: the same empty object for every address."""

