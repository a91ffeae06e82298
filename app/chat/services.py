"""Conversations and messages; points and congratulations kept exact by the database."""

from sqlalchemy import bindparam, delete, exists, insert, select, text
from sqlalchemy.exc import IntegrityError

from app.chat.models import Conversation, Message, Participant
from app.chat.rules import congratulation
from app.core.database import UTCDateTime, utcnow
from app.core.errors import ConversationNotFound, ValidationFailed
from app.core.limits import limit_write
from app.extensions import db
from app.core.pagination import paginate
from app.users.models import User
from app.users.services import ensure_can_write, ensure_writer_status


def display_name(user_id: int, name: str | None) -> str:
    return name or f"user #{user_id}"


def _participants(conversation_ids: list[int]) -> dict[int, list[dict]]:
    """Every participant of these conversations, in one query, in the order they joined."""
    rows = db.session.execute(
        select(Participant.conversation_id, User.id, User.name)
        .join(User, User.id == Participant.user_id)
        .where(Participant.conversation_id.in_(conversation_ids))
        .order_by(Participant.joined_at, User.id)
    ).all()
    people: dict[int, list[dict]] = {conversation_id: [] for conversation_id in conversation_ids}
    for conversation_id, user_id, name in rows:
        people[conversation_id].append({"id": user_id, "name": name})
    return people


def _view(conversation: Conversation, participants: list[dict]) -> dict:
    return {"id": conversation.id, "title": conversation.title, "participants": participants,
            "created_at": conversation.created_at}


def _mine(conversation_id: int, user: User) -> Conversation:
    """The conversation if ``user`` takes part in it; 404 alike for others' and for none."""
    conversation = db.session.scalars(
        select(Conversation).join(Participant, Participant.conversation_id == Conversation.id)
        .where(Conversation.id == conversation_id, Participant.user_id == user.id)
    ).first()
    if conversation is None:
        raise ConversationNotFound()
    return conversation


def create_conversation(creator: User, *, title: str, participant_ids: list[int]) -> dict:
    """Start a conversation between the creator and the given users (at least one other, all existing).

    Within CONVERSATIONS_PER_HOUR; a refused one counts too, so probing for user ids is limited alike.
    """
    limit_write("conversations", creator.id)
    ensure_can_write(creator)
    others = sorted(set(participant_ids) - {creator.id})
    if not others:
        raise ValidationFailed(fields={"participant_ids": ["Name at least one other user: a conversation needs two."]})
    found = set(db.session.scalars(select(User.id).where(User.id.in_(others))))
    unknown = [user_id for user_id in others if user_id not in found]
    if unknown:
        raise ValidationFailed(fields={"participant_ids": [f"No user has the id {', '.join(map(str, unknown))}."]})
    conversation = Conversation(title=title, creator_id=creator.id)
    db.session.add(conversation)
    db.session.flush()
    db.session.execute(insert(Participant), [{"conversation_id": conversation.id, "user_id": user_id,
                                              "joined_at": conversation.created_at}
                                             for user_id in [creator.id, *others]])
    db.session.commit()
    return _view(conversation, _participants([conversation.id])[conversation.id])


def leave_conversation(user: User, conversation_id: int) -> None:
    """Leave a conversation of mine: it leaves my list and my reach (404 from then on).

    The last participant to leave takes the conversation and its messages with them: nobody could
    read it any more. The conversation's row is locked first, so two last participants leaving at
    once cannot each see the other still there and leave it behind with nobody in it.
    """
    locked = db.session.scalar(select(Conversation.id).where(Conversation.id == conversation_id).with_for_update())
    left = db.session.execute(delete(Participant).where(Participant.conversation_id == conversation_id,
                                                        Participant.user_id == user.id)).rowcount
    if locked is None or not left:
        db.session.rollback()
        raise ConversationNotFound()
    anyone_left = exists().where(Participant.conversation_id == conversation_id)
    db.session.execute(delete(Conversation).where(Conversation.id == conversation_id, ~anyone_left))
    db.session.commit()


# The lists' queries are built once (their page statements are cached by the query): a request binds values.
CONVERSATIONS_OF_USER = (select(Conversation).join(Participant, Participant.conversation_id == Conversation.id)
                         .where(Participant.user_id == bindparam("user_id")))
MESSAGES_OF_CONVERSATION = (select(Message, User.name).outerjoin(User, User.id == Message.author_id)
                            .where(Message.conversation_id == bindparam("conversation_id")))


def list_conversations(user: User, *, limit: int, cursor: str | None) -> dict:
    """The conversations I take part in, newest first."""
    rows, next_cursor = paginate(CONVERSATIONS_OF_USER, kind=f"conversations:{user.id}",
                                 created_col=Conversation.created_at, tiebreak_col=Conversation.id, limit=limit,
                                 cursor=cursor, key=lambda row: (row.Conversation.created_at, row.Conversation.id),
                                 params={"user_id": user.id})
    conversations = [row.Conversation for row in rows]
    people = _participants([conversation.id for conversation in conversations])
    return {"items": [_view(conversation, people[conversation.id]) for conversation in conversations],
            "next_cursor": next_cursor}


def get_conversation(user: User, conversation_id: int) -> dict:
    conversation = _mine(conversation_id, user)
    return _view(conversation, _participants([conversation.id])[conversation.id])


def message_view(message: Message, author_name: str | None) -> dict:
    author = {"id": message.author_id, "name": author_name} if message.author_id is not None else None
    return {"id": message.id, "conversation_id": message.conversation_id, "author": author, "kind": message.kind,
            "body": message.body, "created_at": message.created_at}


def list_messages(user: User, conversation_id: int, *, limit: int, cursor: str | None) -> dict:
    """A conversation's messages, newest first, congratulations included."""
    _mine(conversation_id, user)
    rows, next_cursor = paginate(MESSAGES_OF_CONVERSATION, kind=f"messages:{conversation_id}",
                                 created_col=Message.created_at, tiebreak_col=Message.id, limit=limit, cursor=cursor,
                                 key=lambda row: (row.Message.created_at, row.Message.id),
                                 params={"conversation_id": conversation_id})
    return {"items": [message_view(row.Message, row.name) for row in rows], "next_cursor": next_cursor}


# PostgreSQL: membership, the writer's email, the message and the point in one statement. The point
# is added by UPDATE ... RETURNING, which reads the latest committed total even after waiting for a
# concurrent message: each total goes to exactly one message.
POST_MESSAGE = text("""
WITH member AS (
    SELECT u.id, u.name, u.email_status FROM conversation_participants p JOIN users u ON u.id = p.user_id
    WHERE p.conversation_id = :conversation_id AND p.user_id = :user_id
), message AS (
    INSERT INTO messages (conversation_id, author_id, kind, body, created_at)
    SELECT :conversation_id, m.id, 'user', :body, :now FROM member m WHERE m.email_status <> 'invalid'
    RETURNING id
), point AS (
    UPDATE users SET points = points + 1 WHERE id = :user_id AND EXISTS (SELECT 1 FROM message) RETURNING points
)
SELECT m.name, m.email_status, (SELECT id FROM message) AS message_id, (SELECT points FROM point) AS points
FROM member m
""").bindparams(bindparam("now", type_=UTCDateTime))
MESSAGES, USERS, PARTICIPANTS = Message.__table__, User.__table__, Participant.__table__


def post_message(user_id: int, conversation_id: int, *, body: str) -> dict:
    """Post a message: +1 point, and at every tenth point a congratulation, all in one transaction.

    Each multiple of 10 is congratulated exactly once: the total comes from the database.
    Within MESSAGES_PER_MINUTE.
    """
    limit_write("messages", user_id)
    now = utcnow()
    try:
        if db.engine.dialect.name == "postgresql":
            row = db.session.execute(POST_MESSAGE, {"conversation_id": conversation_id, "user_id": user_id,
                                                    "body": body, "now": now}).first()
            name, status, message_id, points = row if row is not None else (None, None, None, None)
        else:
            name, status, message_id, points = _post_step_by_step(user_id, conversation_id, body, now)
    except IntegrityError:  # its last participant left meanwhile, and took the conversation with them
        db.session.rollback()
        raise ConversationNotFound() from None
    if status is None:
        raise ConversationNotFound()
    ensure_writer_status(status)
    message = {"id": message_id, "conversation_id": conversation_id, "author": {"id": user_id, "name": name},
               "kind": "user", "body": body, "created_at": now}
    text_ = congratulation(display_name(user_id, name), points)
    reward = None
    if text_ is not None:
        reward_id = db.session.execute(
            insert(MESSAGES).values(conversation_id=conversation_id, author_id=None, kind="reward", body=text_,
                                    created_at=utcnow()).returning(MESSAGES.c.id, MESSAGES.c.created_at)).one()
        reward = {"id": reward_id.id, "conversation_id": conversation_id, "author": None, "kind": "reward",
                  "body": text_, "created_at": reward_id.created_at}
    db.session.commit()
    return {"message": message, "points": points, "reward": reward}


# The point goes to a participant who may write; the message follows in the same transaction.
ADD_POINT = text("""
UPDATE users SET points = points + 1
WHERE id = :user_id AND email_status <> 'invalid'
AND EXISTS (SELECT 1 FROM conversation_participants p WHERE p.conversation_id = :conversation_id AND p.user_id = :user_id)
RETURNING name, email_status, points
""")
MEMBER_STATUS = text("""
SELECT u.name, u.email_status FROM conversation_participants p JOIN users u ON u.id = p.user_id
WHERE p.conversation_id = :conversation_id AND p.user_id = :user_id
""")


def _post_step_by_step(user_id: int, conversation_id: int, body: str, now) -> tuple:
    """POST_MESSAGE where writable CTEs do not exist (SQLite, in-process): the point, then the message."""
    ids = {"conversation_id": conversation_id, "user_id": user_id}
    point = db.session.execute(ADD_POINT, ids).first()
    if point is None:  # not a participant (or no such conversation), or an undeliverable email
        member = db.session.execute(MEMBER_STATUS, ids).first()
        return (None, None, None, None) if member is None else (member.name, member.email_status, None, None)
    message_id = db.session.execute(
        insert(MESSAGES).values(conversation_id=conversation_id, author_id=user_id, kind="user", body=body,
                                created_at=now).returning(MESSAGES.c.id)).scalar_one()
    return point.name, point.email_status, message_id, point.points
