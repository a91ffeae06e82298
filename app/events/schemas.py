"""The ticket, the stream's query, and each event's data (documented in the OpenAPI document; sent as JSON lines)."""

from marshmallow import fields, validate

from app.chat.schemas import ConversationSchema, MessageSchema
from app.core.schemas import QuerySchema, ResponseSchema, UserRefSchema
from app.users.schemas import ReferralSchema

EVENT_ID = {"description": "Resume after this event: the `id:` of the last event received (as the "
                           "`Last-Event-ID` header does)", "example": "1796599924383-0"}


class TicketSchema(ResponseSchema):
    ticket = fields.String(required=True, metadata={"description": "Pass as `ticket` to `GET /api/v1/events`, once",
                                                    "example": "p0Q8lQ6m1b3k8t5Yp1bKXh3cB2b6r0d8S1e2zQ4yVxM"})
    expires_in = fields.Integer(required=True, metadata={"description": "Seconds it stays good (unused)",
                                                         "example": 30})


class StreamArgsSchema(QuerySchema):
    """``ticket`` is a credential, documented as the ``eventTicket`` security scheme and read by the route."""

    last_event_id = fields.String(validate=validate.Length(min=1, max=41), metadata=EVENT_ID)


class MessageCreatedSchema(ResponseSchema):
    conversation_id = fields.Integer(required=True, metadata={"example": 5})
    message = fields.Nested(MessageSchema, required=True)


class ConversationCreatedSchema(ResponseSchema):
    conversation = fields.Nested(ConversationSchema, required=True)


class LikeCreatedSchema(ResponseSchema):
    post_id = fields.Integer(required=True, metadata={"example": 12})
    user = fields.Nested(UserRefSchema, required=True)
    like_count = fields.Integer(required=True, metadata={"example": 3})


class LikeDeletedSchema(ResponseSchema):
    post_id = fields.Integer(required=True, metadata={"example": 12})
    user_id = fields.Integer(required=True, metadata={"example": 7})
    like_count = fields.Integer(required=True, metadata={"example": 2})


class ProfileUpdatedSchema(ResponseSchema):
    email_status = fields.String(required=True, metadata={"example": "valid"})
    enrichment_status = fields.String(required=True, metadata={"example": "enriched"})


class ReferralCreatedSchema(ResponseSchema):
    referral = fields.Nested(ReferralSchema, required=True)
    referral_count = fields.Integer(required=True, metadata={"example": 3})


class EmptySchema(ResponseSchema):
    pass
