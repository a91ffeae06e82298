"""Request and response bodies of address confirmation and of the development mail outbox."""

from marshmallow import fields, validate

from app.core.schemas import (EXAMPLE_EMAIL, EXAMPLE_TIME, NO_NUL, FullMatch, QuerySchema, RequestSchema,
                              ResponseSchema)


class EmailConfirmSchema(RequestSchema):
    code = fields.String(required=True, validate=FullMatch(r"^[0-9]{6}$", error="The code is 6 digits."),
                         metadata={"description": "The 6 digits the mail brought", "example": "482913"})


class EmailCodeSentSchema(ResponseSchema):
    email = fields.String(required=True, metadata={"description": "Where the code went", "example": EXAMPLE_EMAIL})
    expires_in = fields.Integer(required=True, metadata={"description": "Seconds the code stays valid", "example": 900})
    resend_after = fields.Integer(required=True, metadata={"description": "Seconds before another code may be asked",
                                                           "example": 60})


class MailOutboxArgsSchema(QuerySchema):
    # Any string: the outbox of something that is not an address is empty (no 422 to tell them apart).
    email = fields.String(required=True, validate=[validate.Length(min=1, max=254),
                                                   FullMatch(NO_NUL, error="Text must not hold NUL characters.")],
                          metadata={"description": "The address, in any case", "example": EXAMPLE_EMAIL})


class MailSchema(ResponseSchema):
    email = fields.String(required=True, metadata={"example": EXAMPLE_EMAIL})
    subject = fields.String(required=True, metadata={"example": "Confirm your Agora address"})
    body = fields.String(required=True, metadata={
        "example": "Your Agora confirmation code is 482913. It expires in 15 minutes."})
    created_at = fields.DateTime(required=True, metadata={"example": EXAMPLE_TIME})


class MailOutboxSchema(ResponseSchema):
    items = fields.List(fields.Nested(MailSchema), required=True)
