"""Conversations and messages; points, congratulations and read state kept exact by the database."""

from sqlalchemy import (JSON, Integer, bindparam, case, delete, exists, func, insert, literal, or_, select, text,
                        tuple_, update)
from sqlalchemy.dialects.postgresql import aggregate_order_by
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import GenericFunction

from app.chat.models import Conversation, Message, Participant
from app.chat.rules import congratulation
from app.core.database import UTCDateTime, one_statement, utcnow
from app.core.errors import ConversationNotFound, MessageNotInConversation, ValidationFailed
from app.core.limits import limit_write
from app.events.models import conversation_created, message_created, publish_after_commit
from app.extensions import db
from app.core.pagination import paginate
from app.users.models import User, may_write
from app.users.services import ensure_writer_status

CONVERSATIONS, MESSAGES, USERS, PARTICIPANTS = (Conversation.__table__, Message.__table__, User.__table__,
                                                Participant.__table__)


def display_name(user_id: int, name: str | None) -> str:
    return name or f"user #{user_id}"


def _participants(conversation_ids: list[int], connection=None) -> dict[int, list[dict]]:
    """Every participant of these conversations, in one query, in the order they joined."""
    rows = (connection or db.session).execute(
        select(PARTICIPANTS.c.conversation_id, USERS.c.id, USERS.c.name)
        .join(USERS, USERS.c.id == PARTICIPANTS.c.user_id)
        .where(PARTICIPANTS.c.conversation_id.in_(conversation_ids))
        .order_by(PARTICIPANTS.c.joined_at, USERS.c.id)
    ).all()
    people: dict[int, list[dict]] = {conversation_id: [] for conversation_id in conversation_ids}
    for conversation_id, user_id, name in rows:
        people[conversation_id].append({"id": user_id, "name": name})
    return people


class people_of(GenericFunction):
    """A conversation's participants as a JSON array of ``{id, name}``, in the order they joined.

    A column of the statement that reads the conversation, so a page of conversations and their
    participants are one statement: each database spells the aggregate its own way (below).
    """

    type = JSON()
    inherit_cache = True


def _people(conversation_id, aggregate):
    return (select(aggregate).join_from(PARTICIPANTS, USERS, USERS.c.id == PARTICIPANTS.c.user_id)
            .where(PARTICIPANTS.c.conversation_id == conversation_id).scalar_subquery())


@compiles(people_of, "postgresql")
def _people_on_postgresql(element, compiler, **kw):
    person = func.json_build_object("id", USERS.c.id, "name", USERS.c.name)
    conversation_id, = element.clauses
    return compiler.process(_people(conversation_id, func.json_agg(
        aggregate_order_by(person, PARTICIPANTS.c.joined_at, USERS.c.id))), **kw)


@compiles(people_of, "sqlite")
def _people_on_sqlite(element, compiler, **kw):
    # SQLite aggregates rows in the order its subquery gives them
    conversation_id, = element.clauses
    joined = (select(USERS.c.id, USERS.c.name).join_from(PARTICIPANTS, USERS, USERS.c.id == PARTICIPANTS.c.user_id)
              .where(PARTICIPANTS.c.conversation_id == conversation_id)
              .order_by(PARTICIPANTS.c.joined_at, USERS.c.id).correlate(conversation_id.table).subquery("joined"))
    people = select(func.json_group_array(func.json_object("id", joined.c.id, "name", joined.c.name))).scalar_subquery()
    return compiler.process(people, **kw)


def _message(message_id: int, conversation_id: int, author_id: int | None, author_name: str | None, kind: str,
             body: str, created_at) -> dict:
    """A message as every answer and event shows it (SPEC 7)."""
    author = {"id": author_id, "name": author_name} if author_id is not None else None
    return {"id": message_id, "conversation_id": conversation_id, "author": author, "kind": kind, "body": body,
            "created_at": created_at}


def _view(row) -> dict:
    """A conversation row of ``with_read_state`` as the API answers it."""
    last = None if row.last_message_id is None else _message(
        row.last_message_id, row.id, row.last_author_id, row.last_author_name, row.last_kind, row.last_body,
        row.last_created_at)
    return {"id": row.id, "title": row.title, "participants": row.participants, "created_at": row.created_at,
            "last_message": last, "unread_count": row.unread_count}


# My conversations and their activity (SPEC 7's order, copied onto my row by every message): keys
# alone, so a page is a backward walk of my (user_id, activity_at, conversation_id) index entries,
# whatever the planner believes of my number of rows. with_read_state adds the rest by primary key
# (my marker, the conversation, its last message, unread count, participants) for the page's rows only.
MY_CONVERSATIONS = (select(PARTICIPANTS.c.conversation_id.label("id"), PARTICIPANTS.c.activity_at,
                           PARTICIPANTS.c.user_id.label("viewer_id"))
                    .where(PARTICIPANTS.c.user_id == bindparam("user_id")))


def with_read_state(query):
    """``query``'s conversations with their participants, last message and my unread count, for its rows only.

    Unread: messages after my marker that I did not write, counted on (conversation_id, id, author_id)
    alone. A congratulation has no author, so it is unread for everyone, the one it congratulates
    too, until each reads it (SPEC 7: "congratulations count").
    """
    rows = query.subquery("mine")
    last, author = MESSAGES.alias("last_message"), USERS.alias("last_author")
    conversation, me = CONVERSATIONS.alias("conversation"), PARTICIPANTS.alias("me")
    unread = (select(func.count()).select_from(MESSAGES)
              .where(MESSAGES.c.conversation_id == rows.c.id,
                     MESSAGES.c.id > func.coalesce(me.c.last_read_message_id, 0),
                     MESSAGES.c.author_id.is_distinct_from(rows.c.viewer_id))
              .scalar_subquery())
    return (select(rows, me.c.last_read_message_id, conversation.c.title, conversation.c.created_at,
                   conversation.c.last_message_id,
                   last.c.author_id.label("last_author_id"), author.c.name.label("last_author_name"),
                   last.c.kind.label("last_kind"), last.c.body.label("last_body"),
                   last.c.created_at.label("last_created_at"), unread.label("unread_count"),
                   people_of(rows.c.id).label("participants"))
            .select_from(rows.join(me, (me.c.conversation_id == rows.c.id) & (me.c.user_id == rows.c.viewer_id))
                         .join(conversation, conversation.c.id == rows.c.id)
                         .outerjoin(last, last.c.id == conversation.c.last_message_id)
                         .outerjoin(author, author.c.id == last.c.author_id))
            .order_by(rows.c.activity_at.desc(), rows.c.id.desc()))


CONVERSATION_OF_USER = with_read_state(MY_CONVERSATIONS.where(
    PARTICIPANTS.c.conversation_id == bindparam("conversation_id")))


IS_MEMBER = exists().where(PARTICIPANTS.c.conversation_id == bindparam("conversation_id"),
                           PARTICIPANTS.c.user_id == bindparam("user_id"))
MY_MEMBERSHIP = select(IS_MEMBER)


def _mine(conversation_id: int, user_id: int, connection=None) -> None:
    """Nothing if ``user_id`` takes part in the conversation; 404 alike for others' and for none."""
    if not (connection or db.session).scalar(MY_MEMBERSHIP, {"conversation_id": conversation_id, "user_id": user_id}):
        raise ConversationNotFound()


def create_conversation(creator: User, *, title: str, participant_ids: list[int]) -> dict:
    """Start a conversation between the creator and the given users (at least one other, all existing).

    Within CONVERSATIONS_PER_HOUR; a refused one counts too, so probing for user ids is limited alike.
    Every participant is sent ``conversation.created`` with the answer's conversation once it commits.
    """
    limit_write("conversations", creator.id)
    ensure_writer_status(creator.email_status)
    others = sorted(set(participant_ids) - {creator.id})
    if not others:
        raise ValidationFailed(fields={"participant_ids": ["Name at least one other user: a conversation needs two."]})
    found = set(db.session.scalars(select(User.id).where(User.id.in_(others))))
    unknown = [user_id for user_id in others if user_id not in found]
    if unknown:
        raise ValidationFailed(fields={"participant_ids": [f"No user has the id {', '.join(map(str, unknown))}."]})
    now = utcnow()
    conversation = Conversation(title=title, creator_id=creator.id, created_at=now)
    db.session.add(conversation)
    db.session.flush()
    db.session.execute(insert(Participant), [{"conversation_id": conversation.id, "user_id": user_id,
                                              "joined_at": now, "activity_at": now}
                                             for user_id in [creator.id, *others]])
    view = {"id": conversation.id, "title": title, "participants": _participants([conversation.id])[conversation.id],
            "created_at": now, "last_message": None, "unread_count": 0}
    publish_after_commit(conversation_created([creator.id, *others], view))
    db.session.commit()
    return view


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


# Keys alone, walking the (conversation_id, created_at, id) index; rows by primary key after the LIMIT.
# An index-only walk beats reading and sorting the conversation even when statistics say it is small
# (stale, or averaged): tests/stack/test_chat_plans.py holds the plans.
MESSAGE_KEYS = (select(MESSAGES.c.id, MESSAGES.c.created_at)
                .where(MESSAGES.c.conversation_id == bindparam("conversation_id"), IS_MEMBER))


def with_message_rows(page):
    """The page's messages with their authors' names, read by primary key for the page's keys only."""
    keys = page.subquery("page")
    return (select(MESSAGES.c.id, MESSAGES.c.author_id, USERS.c.name.label("author_name"), MESSAGES.c.kind,
                   MESSAGES.c.body, keys.c.created_at)
            .select_from(keys.join(MESSAGES, MESSAGES.c.id == keys.c.id)
                         .outerjoin(USERS, USERS.c.id == MESSAGES.c.author_id))
            .order_by(keys.c.created_at.desc(), keys.c.id.desc()))


def list_conversations(user_id: int, *, limit: int, cursor: str | None) -> dict:
    """The conversations I take part in, by latest activity first (the newest message's, else the creation's).

    One statement, participants included, whatever the number of conversations and messages. As in
    any list ordered by activity, a conversation that moves up while I page through can be seen
    twice (a page after it moved) or skipped (it moved above my cursor).
    """
    with one_statement() as connection:
        rows, next_cursor = paginate(MY_CONVERSATIONS, kind=f"conversations:{user_id}",
                                     created_col=PARTICIPANTS.c.activity_at,
                                     tiebreak_col=PARTICIPANTS.c.conversation_id,
                                     limit=limit, cursor=cursor, key=lambda row: (row.activity_at, row.id),
                                     connection=connection, params={"user_id": user_id}, wrap=with_read_state)
    return {"items": [_view(row) for row in rows], "next_cursor": next_cursor}


def get_conversation(user_id: int, conversation_id: int) -> dict:
    """One of my conversations, with my read marker; 404 alike for others' and for none."""
    with one_statement() as connection:
        row = connection.execute(CONVERSATION_OF_USER, {"user_id": user_id,
                                                        "conversation_id": conversation_id}).first()
    if row is None:
        raise ConversationNotFound()
    return {**_view(row), "last_read_message_id": row.last_read_message_id}


# Forward only: the CASE reads the marker as it is when the row is written, so of two concurrent
# requests the later-committed one cannot move it back (PostgreSQL re-reads a row updated meanwhile).
MOVE_READ_MARKER = text("""
UPDATE conversation_participants
SET last_read_message_id = CASE WHEN last_read_message_id >= :message_id THEN last_read_message_id
                                ELSE :message_id END
WHERE conversation_id = :conversation_id AND user_id = :user_id
AND EXISTS (SELECT 1 FROM messages m WHERE m.id = :message_id AND m.conversation_id = :conversation_id)
RETURNING last_read_message_id
""")
UNREAD_AFTER = (select(func.count()).select_from(MESSAGES)
                .where(MESSAGES.c.conversation_id == bindparam("conversation_id"),
                       MESSAGES.c.id > bindparam("marker"),
                       MESSAGES.c.author_id.is_distinct_from(bindparam("user_id"))))


def mark_read(user_id: int, conversation_id: int, *, message_id: int) -> dict:
    """Move my read marker forward to ``message_id``; an older message leaves it where it is.

    404 for a conversation that is not mine (or none); 422 for a message that is not in it.
    """
    ids = {"conversation_id": conversation_id, "user_id": user_id, "message_id": message_id}
    marker = db.session.execute(MOVE_READ_MARKER, ids).scalar()
    if marker is None:
        _mine(conversation_id, user_id)
        raise MessageNotInConversation()
    unread = db.session.execute(UNREAD_AFTER, {**ids, "marker": marker}).scalar_one()
    db.session.commit()
    return {"conversation_id": conversation_id, "last_read_message_id": marker, "unread_count": unread}


def list_messages(user_id: int, conversation_id: int, *, limit: int, cursor: str | None) -> dict:
    """A conversation's messages, newest first, congratulations included; 404 alike for others' and for none.

    One statement, the membership in it; a page with no rows asks once more whether it is mine.
    """
    with one_statement() as connection:
        rows, next_cursor = paginate(MESSAGE_KEYS, kind=f"messages:{conversation_id}",
                                     created_col=MESSAGES.c.created_at, tiebreak_col=MESSAGES.c.id,
                                     limit=limit, cursor=cursor,
                                     key=lambda row: (row.created_at, row.id), connection=connection,
                                     params={"conversation_id": conversation_id, "user_id": user_id},
                                     wrap=with_message_rows)
        if not rows:
            _mine(conversation_id, user_id, connection)
    return {"items": [_message(row.id, conversation_id, row.author_id, row.author_name, row.kind, row.body,
                               row.created_at) for row in rows], "next_cursor": next_cursor}


# Named apart from every column: SQLAlchemy reads an execution parameter named like a column of an
# UPDATE's table as a new value for that column, inside a CTE too.
CONVERSATION_ID, USER_ID = bindparam("conversation", type_=Integer), bindparam("author", type_=Integer)
NOW = bindparam("now", type_=UTCDateTime)
# PostgreSQL: the whole post in one statement, kept beside SQLite's step-by-step path because one round
# trip answers more messages (bench/README.md, "One write path"); the stack tier runs it.
# UPDATE ... RETURNING reads the latest committed total, so each total goes to exactly one message; the
# last message moves only to a newer one; rows are locked author, conversation, participants (leaving's order).
_MEMBER = (select(USERS.c.id, USERS.c.name, USERS.c.email_status)
           .join_from(PARTICIPANTS, USERS, USERS.c.id == PARTICIPANTS.c.user_id)
           .where(PARTICIPANTS.c.conversation_id == CONVERSATION_ID, PARTICIPANTS.c.user_id == USER_ID).cte("member"))
_MESSAGE = (insert(MESSAGES).from_select(
    ["conversation_id", "author_id", "kind", "body", "created_at"],
    select(CONVERSATION_ID, _MEMBER.c.id, literal("user"), bindparam("body"), NOW)
    .where(may_write(_MEMBER.c.email_status)))
    .returning(MESSAGES.c.id).cte("message"))
_MESSAGE_ID = select(_MESSAGE.c.id).scalar_subquery()
_POINT = (update(USERS).where(USERS.c.id == USER_ID, exists(select(_MESSAGE.c.id)))
          .values(points=USERS.c.points + 1, updated_at=USERS.c.updated_at)  # no profile edit
          .returning(USERS.c.points).cte("point"))
_NEWER = or_(CONVERSATIONS.c.last_message_id.is_(None),
             tuple_(CONVERSATIONS.c.last_message_at, CONVERSATIONS.c.last_message_id) < tuple_(NOW, _MESSAGE_ID))
_ACTIVITY = (update(CONVERSATIONS).where(CONVERSATIONS.c.id == CONVERSATION_ID, exists(select(_POINT.c.points)))
             .values(last_message_id=case((_NEWER, _MESSAGE_ID), else_=CONVERSATIONS.c.last_message_id),
                     last_message_at=func.greatest(CONVERSATIONS.c.last_message_at, NOW))
             .returning(CONVERSATIONS.c.id).cte("activity"))
_MEMBERS = (update(PARTICIPANTS)
            .where(PARTICIPANTS.c.conversation_id == CONVERSATION_ID, exists(select(_ACTIVITY.c.id)))
            .values(activity_at=func.greatest(PARTICIPANTS.c.activity_at, NOW),
                    last_read_message_id=case(
                        (PARTICIPANTS.c.user_id == USER_ID,
                         func.greatest(func.coalesce(PARTICIPANTS.c.last_read_message_id, 0), _MESSAGE_ID)),
                        else_=PARTICIPANTS.c.last_read_message_id))
            .returning(PARTICIPANTS.c.user_id).cte("members"))
POST_MESSAGE = select(_MEMBER.c.name, _MEMBER.c.email_status, _MESSAGE_ID.label("message_id"),
                      select(_POINT.c.points).scalar_subquery().label("points"),
                      select(func.array_agg(_MEMBERS.c.user_id)).scalar_subquery().label("recipients"))
# PostgreSQL: a congratulation, the conversation's last message and its participants' activity
# moved to it, in one statement (in the message's transaction, which holds those rows already).
ADD_REWARD = (insert(MESSAGES).values(conversation_id=CONVERSATION_ID, author_id=None, kind="reward",
                                      body=bindparam("body"), created_at=NOW)
              .returning(MESSAGES.c.id, MESSAGES.c.created_at))
_REWARD = ADD_REWARD.cte("reward")
POST_REWARD = select(_REWARD.c.id, _REWARD.c.created_at).add_cte(
    update(CONVERSATIONS).where(
        CONVERSATIONS.c.id == CONVERSATION_ID,
        or_(CONVERSATIONS.c.last_message_id.is_(None),
            tuple_(CONVERSATIONS.c.last_message_at, CONVERSATIONS.c.last_message_id)
            < tuple_(_REWARD.c.created_at, _REWARD.c.id)))
    .values(last_message_id=_REWARD.c.id, last_message_at=_REWARD.c.created_at).cte("activity"),
    update(PARTICIPANTS).where(PARTICIPANTS.c.conversation_id == CONVERSATION_ID,
                               PARTICIPANTS.c.activity_at < _REWARD.c.created_at)
    .values(activity_at=_REWARD.c.created_at).cte("members"))


def post_message(user_id: int, conversation_id: int, *, body: str) -> dict:
    """Post a message: +1 point, and at every tenth point a congratulation, all in one transaction.

    Each multiple of 10 is congratulated exactly once (the total comes from the database); the last message
    and the author's read marker move with it. Every participant hears ``message.created`` once it commits.
    """
    limit_write("messages", user_id)
    now = utcnow()
    postgresql = db.engine.dialect.name == "postgresql"
    try:
        if postgresql:
            row = db.session.execute(POST_MESSAGE, {"conversation": conversation_id, "author": user_id,
                                                    "body": body, "now": now}).first()
            name, status, message_id, points, recipients = row if row is not None else (None,) * 5
        else:
            name, status, message_id, points = _post_step_by_step(user_id, conversation_id, body, now)
            recipients = None
    except IntegrityError:  # its last participant left meanwhile, and took the conversation with them
        db.session.rollback()
        raise ConversationNotFound() from None
    if status is None:
        raise ConversationNotFound()
    ensure_writer_status(status)
    message = _message(message_id, conversation_id, user_id, name, "user", body, now)
    text_ = congratulation(display_name(user_id, name), points)
    reward = None
    if text_ is not None:
        added = db.session.execute(POST_REWARD if postgresql else ADD_REWARD,
                                   {"conversation": conversation_id, "body": text_, "now": utcnow()}).one()
        reward = _message(added.id, conversation_id, None, None, "reward", text_, added.created_at)
    if not postgresql:
        recipients = _after_step_by_step(user_id, conversation_id, message, reward or message)
    publish_after_commit(*(message_created(recipients, conversation_id, posted) for posted in (message, reward)
                           if posted is not None))
    db.session.commit()
    return {"message": message, "points": points, "reward": reward}


# The point goes to a participant who may write; the message follows in the same transaction.
ADD_POINT = (update(USERS).where(USERS.c.id == USER_ID, may_write(USERS.c.email_status),
                                 exists().where(PARTICIPANTS.c.conversation_id == CONVERSATION_ID,
                                                PARTICIPANTS.c.user_id == USER_ID))
             .values(points=USERS.c.points + 1, updated_at=USERS.c.updated_at)
             .returning(USERS.c.name, USERS.c.email_status, USERS.c.points))
MEMBER_STATUS = (select(USERS.c.name, USERS.c.email_status).join_from(PARTICIPANTS, USERS, USERS.c.id == PARTICIPANTS.c.user_id)
                 .where(PARTICIPANTS.c.conversation_id == CONVERSATION_ID, PARTICIPANTS.c.user_id == USER_ID))
# POST_MESSAGE's activity, participants' activity and author's marker, for SQLite; its writers take
# turns, so no re-check is needed.
MOVE_ACTIVITY = text("""
UPDATE conversations SET last_message_id = :newest_id, last_message_at = :newest_at
WHERE id = :conversation_id AND (last_message_id IS NULL OR (last_message_at, last_message_id) < (:newest_at, :newest_id))
""").bindparams(bindparam("newest_at", type_=UTCDateTime))
MOVE_MEMBERS = text("""
UPDATE conversation_participants SET activity_at = MAX(COALESCE(activity_at, :newest_at), :newest_at),
    last_read_message_id = CASE WHEN user_id = :user_id THEN MAX(COALESCE(last_read_message_id, 0), :message_id)
                                ELSE last_read_message_id END
WHERE conversation_id = :conversation_id
RETURNING user_id
""").bindparams(bindparam("newest_at", type_=UTCDateTime))


def _post_step_by_step(user_id: int, conversation_id: int, body: str, now) -> tuple:
    """POST_MESSAGE where writable CTEs do not exist (SQLite, in-process): the point, then the message."""
    ids = {"conversation": conversation_id, "author": user_id}
    point = db.session.execute(ADD_POINT, ids).first()
    if point is None:  # not a participant (or no such conversation), or an undeliverable email
        member = db.session.execute(MEMBER_STATUS, ids).first()
        return (None, None, None, None) if member is None else (member.name, member.email_status, None, None)
    message_id = db.session.execute(
        insert(MESSAGES).values(conversation_id=conversation_id, author_id=user_id, kind="user", body=body,
                                created_at=now).returning(MESSAGES.c.id)).scalar_one()
    return point.name, point.email_status, message_id, point.points


def _after_step_by_step(user_id: int, conversation_id: int, message: dict, newest: dict) -> list[int]:
    """POST_MESSAGE's last message, activity and author's marker on SQLite; returns the participants to tell."""
    values = {"conversation_id": conversation_id, "user_id": user_id, "message_id": message["id"],
              "newest_id": newest["id"], "newest_at": newest["created_at"]}
    db.session.execute(MOVE_ACTIVITY, values)
    return list(db.session.execute(MOVE_MEMBERS, values).scalars())
