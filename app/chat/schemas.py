"""Conversation and message bodies."""

from marshmallow import Schema, fields, validate

from app.schemas import MAX_ID, TrimmedSchema, UserRefSchema, page_schema

TITLE_MAX = 200
MESSAGE_MAX = 2000
PARTICIPANTS_MAX = 50


class ConversationCreateSchema(TrimmedSchema):
    title = fields.String(required=True, validate=validate.Length(min=1, max=TITLE_MAX))
    participant_ids = fields.List(
        fields.Integer(validate=validate.Range(min=1, max=MAX_ID)), load_default=list,
        validate=validate.Length(max=PARTICIPANTS_MAX),
        metadata={"description": "Who else takes part; the creator always does"},
    )


class ConversationSchema(Schema):
    id = fields.Integer(required=True)
    title = fields.String(required=True)
    participants = fields.List(fields.Nested(UserRefSchema), required=True)
    created_at = fields.DateTime(required=True)


class MessageCreateSchema(TrimmedSchema):
    body = fields.String(required=True, validate=validate.Length(min=1, max=MESSAGE_MAX))


class MessageSchema(Schema):
    id = fields.Integer(required=True)
    conversation_id = fields.Integer(required=True)
    author = fields.Nested(UserRefSchema, allow_none=True, required=True,
                           metadata={"description": "null for congratulations"})
    kind = fields.String(required=True, validate=validate.OneOf(["user", "reward"]))
    body = fields.String(required=True)
    created_at = fields.DateTime(required=True)


class PostedMessageSchema(Schema):
    message = fields.Nested(MessageSchema, required=True)
    points = fields.Integer(required=True, metadata={"description": "My point total after this message"})
    reward = fields.Nested(MessageSchema, allow_none=True, required=True,
                           metadata={"description": "The congratulation this message earned, or null"})


ConversationPageSchema = page_schema(ConversationSchema, "ConversationPage")
MessagePageSchema = page_schema(MessageSchema, "MessagePage")
