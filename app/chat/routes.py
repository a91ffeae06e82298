"""Conversations and their messages."""

from flask.views import MethodView

from app.core.api import Blueprint
from app.core.docs import link, links
from app.auth.tokens import current_user, current_user_id, token_required
from app.chat import services
from app.chat.schemas import (ConversationCreateSchema, ConversationDetailSchema, ConversationPageSchema,
                              ConversationSchema, MessageCreateSchema, MessagePageSchema, PostedMessageSchema,
                              ReadMarkerSchema, ReadStateSchema)
from app.core.schemas import BEARER_AUTH, RETRY_AFTER_HEADER, ErrorSchema, PageArgsSchema

blp = Blueprint("chat", __name__, url_prefix="/api/v1/conversations", description="Conversations and points")

CONVERSATION = "/api/v1/conversations/{conversation_id}"


def conversation_links(conversation_id: str) -> dict:
    return {"GetConversation": link("get", CONVERSATION, "The conversation", conversation_id=conversation_id),
            "ListMessages": link("get", f"{CONVERSATION}/messages", "Its messages", conversation_id=conversation_id),
            "PostMessage": link("post", f"{CONVERSATION}/messages", "Write in it", conversation_id=conversation_id)}


@blp.route("")
class Conversations(MethodView):
    decorators = [token_required()]

    @blp.doc(security=BEARER_AUTH)
    @blp.arguments(PageArgsSchema, location="query")
    @blp.response(200, ConversationPageSchema)
    def get(self, args):
        """List my conversations, latest activity first, with their last message and unread count"""
        return services.list_conversations(current_user_id(), **args)

    @blp.doc(security=BEARER_AUTH)
    @blp.arguments(ConversationCreateSchema, example={"title": "Saturday hike", "participant_ids": [7, 12]})
    @blp.response(201, ConversationSchema)
    @blp.alt_response(403, schema=ErrorSchema, description="`email_undeliverable`")
    @blp.alt_response(422, schema=ErrorSchema, description="`validation_error`: also when a participant id "
                                                           "names no user, or the list names nobody but me")
    @blp.alt_response(429, schema=ErrorSchema, headers=RETRY_AFTER_HEADER,
                      description="`too_many_requests`: over `CONVERSATIONS_PER_HOUR` (with `Retry-After`)")
    @blp.doc(**links(201, **conversation_links("$response.body#/id")))
    def post(self, data):
        """Start a conversation (I take part in it)"""
        return services.create_conversation(current_user, **data)


@blp.route("/<id:conversation_id>")
class ConversationItem(MethodView):
    @token_required()
    @blp.doc(security=BEARER_AUTH)
    @blp.response(200, ConversationDetailSchema)
    @blp.alt_response(404, schema=ErrorSchema, description="`conversation_not_found`: none, or not mine")
    def get(self, conversation_id):
        """Show one of my conversations, with my read marker"""
        return services.get_conversation(current_user_id(), conversation_id)


@blp.route("/<id:conversation_id>/read")
class ReadMarker(MethodView):
    @token_required()
    @blp.doc(security=BEARER_AUTH)
    @blp.arguments(ReadMarkerSchema, example={"message_id": 230})
    @blp.response(200, ReadStateSchema)
    @blp.alt_response(404, schema=ErrorSchema, description="`conversation_not_found`: none, or not mine")
    @blp.alt_response(422, schema=ErrorSchema, description="`message_not_in_conversation`: no message of this "
                                                           "conversation has this id; `validation_error`")
    def post(self, data, conversation_id):
        """Move my read marker forward to a message (an older one leaves it where it is)"""
        return services.mark_read(current_user_id(), conversation_id, **data)


@blp.route("/<id:conversation_id>/participants/me")
class MyParticipation(MethodView):
    @token_required()
    @blp.doc(security=BEARER_AUTH)
    @blp.response(204)
    @blp.alt_response(404, schema=ErrorSchema, description="`conversation_not_found`: none, not mine, or left already")
    @blp.doc(**links(204, GetConversation=link("get", CONVERSATION, "Now 404 `conversation_not_found`",
                                               conversation_id="$request.path.conversation_id")))
    def delete(self, conversation_id):
        """Leave one of my conversations (the last to leave deletes it)"""
        services.leave_conversation(current_user, conversation_id)


@blp.route("/<id:conversation_id>/messages")
class Messages(MethodView):
    decorators = [token_required()]

    @blp.doc(security=BEARER_AUTH)
    @blp.arguments(PageArgsSchema, location="query")
    @blp.response(200, MessagePageSchema)
    @blp.alt_response(404, schema=ErrorSchema, description="`conversation_not_found`")
    def get(self, args, conversation_id):
        """Read a conversation's messages, newest first"""
        return services.list_messages(current_user_id(), conversation_id, **args)

    @blp.doc(security=BEARER_AUTH)
    @blp.arguments(MessageCreateSchema)
    @blp.response(201, PostedMessageSchema)
    @blp.alt_response(403, schema=ErrorSchema, description="`email_undeliverable`")
    @blp.alt_response(404, schema=ErrorSchema, description="`conversation_not_found`")
    @blp.alt_response(429, schema=ErrorSchema, headers=RETRY_AFTER_HEADER,
                      description="`too_many_requests`: over `MESSAGES_PER_MINUTE` (with `Retry-After`)")
    @blp.doc(**links(201, **conversation_links("$response.body#/message/conversation_id")))
    def post(self, data, conversation_id):
        """Post a message: +1 point, and a congratulation at every 10 points"""
        return services.post_message(current_user_id(), conversation_id, **data)
