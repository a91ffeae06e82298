"""Profile schemas."""

from marshmallow import ValidationError, fields, validate, validates_schema

from app.auth.passwords import new_password_field
from app.core.schemas import (EXAMPLE_ACCESS_TOKEN, EXAMPLE_EMAIL, EXAMPLE_NAME, EXAMPLE_PASSWORD, EXAMPLE_PHONE,
                              EXAMPLE_REFRESH_TOKEN, EXAMPLE_TIME, WHITESPACE, FullMatch, RequestSchema, ResponseSchema,
                              TrimmedSchema, UserRefSchema, email_field, name_field, page_schema)
from app.users.rules import LENGTH as INVITE_CODE_LENGTH

# An invite code in any case, with the whitespace the service trims around it.
INVITE_CODE_PATTERN = rf"^[{WHITESPACE}]*[0-9A-Za-z]{{{INVITE_CODE_LENGTH}}}[{WHITESPACE}]*$"

# What a found enrichment holds (app.profile_checks.rules.extract_enrichment): empty parts are left out.
EXAMPLE_ENRICHMENT = {
    "full_name": EXAMPLE_NAME,
    "location": "London, England",
    "bio": "Mathematician; wrote the first published program.",
    "avatar": "https://example.com/avatars/ada.png",
    "site": "https://example.com/ada",
    "handles": {"github": "ada", "twitter": "ada"},
    "employer": {"name": "Analytical Engines Ltd", "domain": "example.com", "title": "Programmer"},
}


class ProfileSchema(ResponseSchema):
    id = fields.Integer(attribute="user.id", required=True, metadata={"example": 42})
    email = fields.String(attribute="user.email", allow_none=True, metadata={"example": EXAMPLE_EMAIL})
    phone = fields.String(attribute="user.phone", allow_none=True, metadata={"example": EXAMPLE_PHONE})
    name = fields.String(attribute="user.name", allow_none=True, metadata={"example": EXAMPLE_NAME})
    email_status = fields.String(attribute="user.email_status", required=True, metadata={
        "description": "pending until Hunter answers: valid, invalid, risky, unknown or failed; "
                       "skipped without a Hunter key",
        "example": "valid"})
    email_confirmed = fields.Boolean(attribute="user.email_confirmed", required=True, metadata={
        "description": "True once the code mailed to the address was given back (POST /api/v1/auth/email/confirm)",
        "example": True})
    enrichment_status = fields.String(attribute="user.enrichment_status", required=True, metadata={
        "description": "unconfirmed until the address is confirmed; then pending until the provider answers: "
                       "found, not_found or failed; skipped without a provider key",
        "example": "found"})
    enrichment = fields.Dict(attribute="user.enrichment", allow_none=True, metadata={"example": EXAMPLE_ENRICHMENT})
    invite_code = fields.String(attribute="user.invite_code", required=True, metadata={
        "description": "Mine, for others to activate", "example": "K7Q2ZM"})
    activated_invite_code = fields.String(attribute="user.activated_invite_code", allow_none=True, metadata={
        "description": "The code I activated, if any", "example": "AB12CD"})
    referred_by = fields.Nested(UserRefSchema, allow_none=True, metadata={
        "description": "Whose invite code I activated", "example": {"id": 7, "name": "Grace Hopper"}})
    referrals = fields.List(fields.String(), required=True, metadata={
        "description": "Who activated my code (phone, else email), newest first, at most 100",
        "example": ["+79997654321", "grace@example.com"]})
    referral_count = fields.Integer(required=True, metadata={"example": 2})
    points = fields.Integer(attribute="user.points", required=True, metadata={"example": 12})
    post_count = fields.Integer(required=True, metadata={"example": 3})
    created_at = fields.DateTime(attribute="user.created_at", required=True, metadata={"example": EXAMPLE_TIME})


class ProfileUpdatedSchema(ProfileSchema):
    access_token = fields.String(metadata={"description": "Fresh tokens, only when a new password or email "
                                                          "ended every earlier session",
                                           "example": EXAMPLE_ACCESS_TOKEN})
    refresh_token = fields.String(metadata={"example": EXAMPLE_REFRESH_TOKEN})


class PublicProfileSchema(ResponseSchema):
    id = fields.Integer(attribute="user.id", required=True, metadata={"example": 42})
    name = fields.String(attribute="user.name", allow_none=True, metadata={"example": EXAMPLE_NAME})
    points = fields.Integer(attribute="user.points", required=True, metadata={"example": 12})
    post_count = fields.Integer(required=True, metadata={"example": 3})
    referral_count = fields.Integer(required=True, metadata={"example": 2})
    created_at = fields.DateTime(attribute="user.created_at", required=True, metadata={"example": EXAMPLE_TIME})


class ProfileUpdateSchema(TrimmedSchema):
    # The rule of not_empty: current_password or phone_code alone changes nothing.
    json_schema = {"anyOf": [{"required": ["name"]}, {"required": ["email"]}, {"required": ["password"]}]}

    name = name_field(allow_none=True, metadata={"example": EXAMPLE_NAME})
    email = email_field(metadata={"example": "ada.lovelace@example.com"})
    password = new_password_field(metadata={"description": "A new password", "example": "violet canoe hums"})
    current_password = fields.String(validate=validate.Length(min=1, max=128), load_only=True, metadata={
        "description": "Required with `email` or `password`: a wrong one is 422 and counts as a failed login",
        "example": EXAMPLE_PASSWORD})
    phone_code = fields.String(validate=[validate.Length(min=4, max=4),  # with the pattern: no space around it
                                         FullMatch(r"^[0-9]{4}$", error="The code is 4 digits.")], load_only=True,
                               metadata={"description": "Instead of `current_password`, for an account with no "
                                                        "password (signed up by phone): a fresh code from "
                                                        "`POST /api/v1/auth/phone/code` for its phone",
                                         "example": "4821"})

    @validates_schema
    def not_empty(self, data, **kwargs):
        if not set(data) - {"current_password", "phone_code"}:
            raise ValidationError("Send at least one field to change: name, email or password.")


class InviteActivationSchema(RequestSchema):
    invite_code = fields.String(required=True, validate=[
        validate.Length(min=1, max=32),
        FullMatch(INVITE_CODE_PATTERN, error=f"An invite code is {INVITE_CODE_LENGTH} letters and digits.")],
        metadata={"description": "Someone else's invite code (any case)", "example": "AB12CD"})


class ReferralSchema(ResponseSchema):
    user = fields.Nested(UserRefSchema, required=True)
    contact = fields.String(allow_none=True, metadata={"description": "Their phone, or email where there is none",
                                                       "example": "+79997654321"})
    referred_at = fields.DateTime(required=True, metadata={"example": EXAMPLE_TIME})


ReferralPageSchema = page_schema(ReferralSchema, "ReferralPage")
