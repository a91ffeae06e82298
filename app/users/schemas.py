"""Profile schemas."""

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from app.schemas import TrimmedSchema, UserRefSchema, email_field, name_field, new_password_field, page_schema


class ProfileSchema(Schema):
    id = fields.Integer(attribute="user.id", required=True)
    email = fields.String(attribute="user.email", allow_none=True)
    phone = fields.String(attribute="user.phone", allow_none=True)
    name = fields.String(attribute="user.name", allow_none=True)
    email_status = fields.String(attribute="user.email_status", required=True)
    enrichment_status = fields.String(attribute="user.enrichment_status", required=True)
    enrichment = fields.Dict(attribute="user.enrichment", allow_none=True)
    invite_code = fields.String(attribute="user.invite_code", required=True)
    activated_invite_code = fields.String(attribute="user.activated_invite_code", allow_none=True)
    referred_by = fields.Nested(UserRefSchema, allow_none=True)
    referrals = fields.List(fields.String(), required=True)
    referral_count = fields.Integer(required=True)
    points = fields.Integer(attribute="user.points", required=True)
    post_count = fields.Integer(required=True)
    created_at = fields.DateTime(attribute="user.created_at", required=True)


class ProfileUpdatedSchema(ProfileSchema):
    access_token = fields.String(metadata={"description": "Fresh tokens, only when a new password or email "
                                                          "ended every earlier session"})
    refresh_token = fields.String()


class PublicProfileSchema(Schema):
    id = fields.Integer(attribute="user.id", required=True)
    name = fields.String(attribute="user.name", allow_none=True)
    points = fields.Integer(attribute="user.points", required=True)
    post_count = fields.Integer(required=True)
    referral_count = fields.Integer(required=True)
    created_at = fields.DateTime(attribute="user.created_at", required=True)


class ProfileUpdateSchema(TrimmedSchema):
    name = name_field(allow_none=True)
    email = email_field()
    password = new_password_field()
    current_password = fields.String(validate=validate.Length(min=1, max=128), load_only=True,
                                     metadata={"description": "Required to replace an existing password"})

    @validates_schema
    def not_empty(self, data, **kwargs):
        if not set(data) - {"current_password"}:
            raise ValidationError("Send at least one field to change: name, email or password.")


class InviteActivationSchema(Schema):
    invite_code = fields.String(required=True, validate=validate.Length(min=1, max=32),
                                metadata={"description": "Someone else's invite code (any case)", "example": "AB12CD"})


class ReferralSchema(Schema):
    user = fields.Nested(UserRefSchema, required=True)
    contact = fields.String(allow_none=True, metadata={"description": "Their phone, or email where there is none"})
    referred_at = fields.DateTime(required=True)


ReferralPageSchema = page_schema(ReferralSchema, "ReferralPage")
