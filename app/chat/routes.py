"""Conversations and their messages."""

from flask.views import MethodView

from app.core.api import Blueprint
from app.core.openapi import link, links
from app.auth.tokens import ACCESS_TOKEN, current_user, current_user_id
from app.chat import services
from app.chat.schemas import (ConversationCreateSchema, ConversationDetailSchema, ConversationPageSchema,
                              ConversationSchema, MessageCreateSchema, MessagePageSchema, PostedMessageSchema,
                              ReadMarkerSchema, ReadStateSchema)
from app.core.errors import (ConversationNotFound, EmailUndeliverable, MessageNotInConversation, TooManyRequests,
                             ValidationFailed)
from app.core.schemas import PageArgsSchema

blp = Blueprint("chat", __name__, url_prefix="/api/v1/conversations", description="Conversations and points")

CONVERSATION = "/api/v1/conversations/{conversation_id}"


def conversation_links(conversation_id: str) -> dict:
    return {"GetConversation": link("get", CONVERSATION, "The conversation", conversation_id=conversation_id),
            "ListMessages": link("get", f"{CONVERSATION}/messages", "Its messages", conversation_id=conversation_id),
            "PostMessage": link("post", f"{CONVERSATION}/messages", "Write in it", conversation_id=conversation_id)}


@blp.route("")
class Conversations(MethodView):
    @blp.operation(auth=ACCESS_TOKEN)
    @blp.arguments(PageArgsSchema, location="query")
    @blp.response(200, ConversationPageSchema)
    def get(self, args):
        """List my conversations, latest activity first, with their last message and unread count"""
        return services.list_conversations(current_user_id(), **args)

    @blp.operation(auth=ACCESS_TOKEN, errors=[
        EmailUndeliverable,
        ValidationFailed.when("also when a participant id names no user, or the list names nobody but me"),
        TooManyRequests.when("over `CONVERSATIONS_PER_HOUR`")])
    @blp.arguments(ConversationCreateSchema, example={"title": "Saturday hike", "participant_ids": [7, 12]})
    @blp.response(201, ConversationSchema)
    @blp.doc(**links(201, **conversation_links("$response.body#/id")))
    def post(self, data):
        """Start a conversation (I take part in it)"""
        return services.create_conversation(current_user, **data)


@blp.route("/<id:conversation_id>")
class ConversationItem(MethodView):
    @blp.operation(auth=ACCESS_TOKEN, errors=[ConversationNotFound.when("none, or not mine")])
    @blp.response(200, ConversationDetailSchema)
    def get(self, conversation_id):
        """Show one of my conversations, with my read marker"""
        return services.get_conversation(current_user_id(), conversation_id)


@blp.route("/<id:conversation_id>/read")
class ReadMarker(MethodView):
    @blp.operation(auth=ACCESS_TOKEN, errors=[
        ConversationNotFound.when("none, or not mine"),
        MessageNotInConversation.when("no message of this conversation has this id"), ValidationFailed])
    @blp.arguments(ReadMarkerSchema, example={"message_id": 230})
    @blp.response(200, ReadStateSchema)
    def post(self, data, conversation_id):
        """Move my read marker forward to a message (an older one leaves it where it is)"""
        return services.mark_read(current_user_id(), conversation_id, **data)


@blp.route("/<id:conversation_id>/participants/me")
class MyParticipation(MethodView):
    @blp.operation(auth=ACCESS_TOKEN, errors=[ConversationNotFound.when("none, not mine, or left already")])
    @blp.response(204)
    @blp.doc(**links(204, GetConversation=link("get", CONVERSATION, "Now 404 `conversation_not_found`",
                                               conversation_id="$request.path.conversation_id")))
    def delete(self, conversation_id):
        """Leave one of my conversations (the last to leave deletes it)"""
        services.leave_conversation(current_user, conversation_id)


@blp.route("/<id:conversation_id>/messages")
class Messages(MethodView):
    @blp.operation(auth=ACCESS_TOKEN, errors=[ConversationNotFound])
    @blp.arguments(PageArgsSchema, location="query")
    @blp.response(200, MessagePageSchema)
    def get(self, args, conversation_id):
        """Read a conversation's messages, newest first"""
        return services.list_messages(current_user_id(), conversation_id, **args)

    @blp.operation(auth=ACCESS_TOKEN, errors=[EmailUndeliverable, ConversationNotFound,
                                              TooManyRequests.when("over `MESSAGES_PER_MINUTE`")])
    @blp.arguments(MessageCreateSchema)
    @blp.response(201, PostedMessageSchema)
    @blp.doc(**links(201, **conversation_links("$response.body#/message/conversation_id")))
    def post(self, data, conversation_id):
        """Post a message: +1 point, and a congratulation at every 10 points"""
        return services.post_message(current_user_id(), conversation_id, **data)
