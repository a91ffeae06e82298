"""Conversation and message bodies."""

from marshmallow import fields, validate

from app.core.schemas import (EXAMPLE_TIME, MAX_ID, RequestSchema, ResponseSchema, TrimmedSchema, UserRefSchema,
                              page_schema, text_field)

TITLE_MAX = 200
MESSAGE_MAX = 2000
PARTICIPANTS_MAX = 50
EXAMPLE_TITLE = "Saturday hike"
EXAMPLE_MESSAGE = "Meet at the station at nine?"


class ConversationCreateSchema(TrimmedSchema):
    title = text_field(TITLE_MAX, required=True, metadata={"example": EXAMPLE_TITLE})
    participant_ids = fields.List(
        fields.Integer(validate=validate.Range(min=1, max=MAX_ID)), required=True,
        validate=validate.Length(min=1, max=PARTICIPANTS_MAX),
        metadata={"description": "Who else takes part: ids of existing users, at least one other than me (422 "
                                 "otherwise); the creator always does",
                  "example": [7, 12]},
    )


class MessageCreateSchema(TrimmedSchema):
    body = text_field(MESSAGE_MAX, required=True, metadata={"example": EXAMPLE_MESSAGE})


class MessageSchema(ResponseSchema):
    id = fields.Integer(required=True, metadata={"example": 230})
    conversation_id = fields.Integer(required=True, metadata={"example": 5})
    author = fields.Nested(UserRefSchema, allow_none=True, required=True,
                           metadata={"description": "null for congratulations",
                                     "example": {"id": 42, "name": "Ada Lovelace"}})
    kind = fields.String(required=True, validate=validate.OneOf(["user", "reward"]), metadata={"example": "user"})
    body = fields.String(required=True, metadata={"example": EXAMPLE_MESSAGE})
    created_at = fields.DateTime(required=True, metadata={"example": EXAMPLE_TIME})


class PostedMessageSchema(ResponseSchema):
    message = fields.Nested(MessageSchema, required=True)
    points = fields.Integer(required=True, metadata={"description": "My point total after this message",
                                                     "example": 10})
    reward = fields.Nested(MessageSchema, allow_none=True, required=True,
                           metadata={"description": "The congratulation this message earned, or null",
                                     "example": {"id": 231, "conversation_id": 5, "author": None, "kind": "reward",
                                                 "body": "Congratulations, Ada Lovelace! You reached 10 points.",
                                                 "created_at": EXAMPLE_TIME}})


class ConversationSchema(ResponseSchema):
    id = fields.Integer(required=True, metadata={"example": 5})
    title = fields.String(required=True, metadata={"example": EXAMPLE_TITLE})
    participants = fields.List(fields.Nested(UserRefSchema), required=True)
    created_at = fields.DateTime(required=True, metadata={"example": EXAMPLE_TIME})
    last_message = fields.Nested(MessageSchema, allow_none=True, required=True,
                                 metadata={"description": "The newest message (a congratulation too), or null",
                                           "example": {"id": 230, "conversation_id": 5,
                                                       "author": {"id": 42, "name": "Ada Lovelace"}, "kind": "user",
                                                       "body": EXAMPLE_MESSAGE, "created_at": EXAMPLE_TIME}})
    unread_count = fields.Integer(required=True, metadata={
        "description": "Messages after my read marker that I did not write; congratulations count",
        "example": 3})


class ConversationDetailSchema(ConversationSchema):
    last_read_message_id = fields.Integer(allow_none=True, required=True, metadata={
        "description": "My read marker: the newest message I read (posting moves it to my message), or null",
        "example": 228})


class ReadMarkerSchema(RequestSchema):
    message_id = fields.Integer(required=True, validate=validate.Range(min=1, max=MAX_ID), metadata={
        "description": "A message of this conversation (422 otherwise); an older one than my marker leaves it",
        "example": 230})


class ReadStateSchema(ResponseSchema):
    conversation_id = fields.Integer(required=True, metadata={"example": 5})
    last_read_message_id = fields.Integer(required=True, metadata={"example": 230})
    unread_count = fields.Integer(required=True, metadata={"example": 0})


ConversationPageSchema = page_schema(ConversationSchema, "ConversationPage")
MessagePageSchema = page_schema(MessageSchema, "MessagePage")
