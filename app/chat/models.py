"""Conversations, their participants and messages."""

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.core.database import UTCDateTime, utcnow
from app.extensions import db

MESSAGE_KINDS = ("user", "reward")


class Conversation(db.Model):
    """A conversation; ``last_message_id`` and ``last_message_at`` follow its newest message (SPEC 7's order).

    Both are written by the statement that adds a message, so the list needs no per-conversation query.
    ``last_message_id`` has no foreign key: a message is only ever deleted with its conversation, and the
    cycle between the two tables would need an ALTER TABLE that SQLite lacks.
    """

    __tablename__ = "conversations"
    __table_args__ = (Index("ix_conversations_created_at_id", "created_at", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    creator_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # The newest message's time; None while there is none (the list then orders by created_at).
    last_message_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_message_id: Mapped[int | None] = mapped_column(Integer)


class Participant(db.Model):
    """A user's membership of a conversation; the primary key makes it unique.

    ``activity_at`` copies the conversation's activity (SPEC 7's order) onto each member's row, so a
    user's list is a walk of their own index entries, whatever the number of conversations.
    """

    __tablename__ = "conversation_participants"
    __table_args__ = (Index("ix_conversation_participants_user_id_activity_at", "user_id", "activity_at",
                            "conversation_id"),)

    conversation_id: Mapped[int] = mapped_column(ForeignKey("conversations.id", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    joined_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # The newest message's time, else the conversation's creation: written with every message.
    activity_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # The newest message this user has read; it only moves forward (by id). None: nothing read yet.
    last_read_message_id: Mapped[int | None] = mapped_column(Integer)


class Message(db.Model):
    """A user's message, or a congratulation (``kind='reward'``, no author)."""

    __tablename__ = "messages"
    __table_args__ = (
        CheckConstraint(f"kind IN {MESSAGE_KINDS}", name="kind_known"),
        # A reward never has an author; a user's message loses its author only if the user is deleted.
        CheckConstraint("kind = 'user' OR author_id IS NULL", name="reward_has_no_author"),
        Index("ix_messages_conversation_id_created_at_id", "conversation_id", "created_at", "id"),
        # Unread counts: a conversation's messages after a marker, their authors read from the index alone.
        Index("ix_messages_conversation_id_id_author_id", "conversation_id", "id", "author_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    conversation_id: Mapped[int] = mapped_column(ForeignKey("conversations.id", ondelete="CASCADE"))
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    kind: Mapped[str] = mapped_column(String(8), default="user")
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
