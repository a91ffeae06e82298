"""Posts and likes; like counts are kept exact by the database, under concurrency too.

The hot paths (read, list, write, like) are SQLAlchemy Core statements over the tables and
take the caller's id, not a loaded user row: each is one statement, checking the writer's
``email_status`` inside it where a write needs that.
"""

from sqlalchemy import Integer, bindparam, exists, func, insert, literal, literal_column, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError

from app.core.database import UTCDateTime, one_statement, utcnow
from app.core.errors import CannotLikeOwnPost, NotAuthor, PostNotFound
from app.core.limits import limit_write
from app.extensions import db
from app.core.pagination import paginate
from app.events import models as events
from app.posts.models import Like, Post
from app.users.models import User, may_write
from app.users.services import ensure_writer_status

POSTS, LIKES, USERS = Post.__table__, Like.__table__, User.__table__
POST_COLUMNS = (POSTS.c.id, POSTS.c.author_id, USERS.c.name.label("author_name"), POSTS.c.title, POSTS.c.body,
                POSTS.c.like_count, POSTS.c.created_at, POSTS.c.updated_at)


# Posts with their author's name and the ``liked_by_me`` flag, in one query; built once, with the
# viewer as a bound parameter, so a request only binds values.
POSTS_WITH_AUTHOR = select(*POST_COLUMNS).join(USERS, USERS.c.id == POSTS.c.author_id)
POSTS_BY_AUTHOR = POSTS_WITH_AUTHOR.where(POSTS.c.author_id == bindparam("author_id"))
LIKED_BY_VIEWER = exists().where(LIKES.c.post_id == POSTS.c.id, LIKES.c.user_id == bindparam("viewer_id"))
POST_BY_ID = {True: select(*POST_COLUMNS, LIKED_BY_VIEWER.label("liked_by_me"))
              .join(USERS, USERS.c.id == POSTS.c.author_id).where(POSTS.c.id == bindparam("post_id")),
              False: POSTS_WITH_AUTHOR.where(POSTS.c.id == bindparam("post_id"))}


def liked_by_viewer(page):
    """The page's posts with ``liked_by_me``, probed for these rows only (after the LIMIT).

    In the page's own query PostgreSQL plans the EXISTS as a hash of all the viewer's likes,
    which grows with everything they ever liked; over 20 rows it is 20 primary-key probes.
    """
    rows = page.subquery("page")
    liked = exists().where(LIKES.c.post_id == rows.c.id, LIKES.c.user_id == bindparam("viewer_id"))
    return select(rows, liked.label("liked_by_me")).order_by(rows.c.created_at.desc(), rows.c.id.desc())


def post_view(row) -> dict:
    return {
        "id": row.id, "author": {"id": row.author_id, "name": row.author_name}, "title": row.title,
        "body": row.body, "like_count": row.like_count, "liked_by_me": bool(row._mapping.get("liked_by_me")),
        "created_at": row.created_at, "updated_at": row.updated_at,
    }


def list_posts(*, viewer_id: int | None, author_id: int | None, limit: int, cursor: str | None) -> dict:
    """Posts newest first, optionally by one author."""
    query = POSTS_WITH_AUTHOR if author_id is None else POSTS_BY_AUTHOR
    with one_statement() as connection:
        rows, next_cursor = paginate(
            query, kind="posts", created_col=POSTS.c.created_at, tiebreak_col=POSTS.c.id,
            limit=limit, cursor=cursor, key=lambda row: (row.created_at, row.id), connection=connection,
            params={"viewer_id": viewer_id, "author_id": author_id}, wrap=liked_by_viewer if viewer_id else None,
        )
    return {"items": [post_view(row) for row in rows], "next_cursor": next_cursor}


def get_post(post_id: int, *, viewer_id: int | None = None) -> dict:
    with one_statement() as connection:
        row = connection.execute(POST_BY_ID[bool(viewer_id)], {"viewer_id": viewer_id, "post_id": post_id}).first()
    if row is None:
        raise PostNotFound()
    return post_view(row)


def _refuse_writer(user_id: int) -> None:
    """Say why a write by ``user_id`` inserted nothing: their email is undeliverable, or they are gone."""
    ensure_writer_status(db.session.scalar(select(USERS.c.email_status).where(USERS.c.id == user_id)))


USER_ID, POST_ID = bindparam("user_id", type_=Integer), bindparam("post_id", type_=Integer)
NOW = bindparam("now", type_=UTCDateTime)
# SQLAlchemy does not correlate a subquery in RETURNING with the row returned: written out.
AUTHOR_NAME = literal_column("(SELECT author.name FROM users author WHERE author.id = posts.author_id)").label(
    "author_name")
# One statement on both databases: the author may write, the row goes in, and the answer comes back
# with the author's name.
CREATE_POST = (insert(POSTS).from_select(
    ["author_id", "title", "body", "like_count", "created_at", "updated_at"],
    select(USERS.c.id, bindparam("title"), bindparam("body"), literal(0), NOW, NOW)
    .where(USERS.c.id == bindparam("author_id"), may_write(USERS.c.email_status)))
    .returning(POSTS.c.id, POSTS.c.author_id,
               AUTHOR_NAME,
               POSTS.c.title, POSTS.c.body, POSTS.c.like_count, POSTS.c.created_at, POSTS.c.updated_at,
               literal(0).label("liked_by_me")))


def create_post(author_id: int, *, body: str, title: str | None = None) -> dict:
    """Write a post: one INSERT ... SELECT that also checks the author may write (within POSTS_PER_MINUTE)."""
    limit_write("posts", author_id)
    with one_statement() as connection:
        row = connection.execute(CREATE_POST, {"author_id": author_id, "title": title, "body": body,
                                               "now": utcnow()}).first()
    if row is None:
        _refuse_writer(author_id)
    return post_view(row)


def _authored_post(post_id: int, user: User) -> Post:
    post = db.session.get(Post, post_id)
    if post is None:
        raise PostNotFound()
    if post.author_id != user.id:
        raise NotAuthor()
    ensure_writer_status(user.email_status)
    return post


def update_post(user: User, post_id: int, **changes) -> dict:
    """Change a post's title or body; only its author may."""
    post = _authored_post(post_id, user)
    for field, value in changes.items():
        setattr(post, field, value)
    db.session.commit()
    return get_post(post_id, viewer_id=user.id)


def delete_post(user: User, post_id: int) -> None:
    """Delete a post and its likes; only its author may."""
    db.session.delete(_authored_post(post_id, user))
    db.session.commit()


# PostgreSQL: the like, its counter and the answer in one statement, kept beside SQLite's two because one
# round trip answers more likes (bench/README.md, "One write path"). The counter moves by the rows inserted,
# and an UPDATE reads the latest committed row, so the count returned is exact under concurrent likes.
_TARGET = (select(POSTS.c.author_id, USERS.c.email_status.label("status"), USERS.c.name)
           .select_from(POSTS.outerjoin(USERS, USERS.c.id == USER_ID)).where(POSTS.c.id == POST_ID).cte("target"))
_INSERTED = (postgresql.insert(LIKES).from_select(
    ["user_id", "post_id", "created_at"],
    select(USER_ID, POST_ID, NOW).where(_TARGET.c.author_id != USER_ID, may_write(_TARGET.c.status)))
    .on_conflict_do_nothing().returning(LIKES.c.post_id).cte("inserted"))
_CREATED = select(func.count()).select_from(_INSERTED).scalar_subquery()
# updated_at is set to itself: a like is not an edit, so the column's onupdate must not fire.
_BUMP = (update(POSTS).where(POSTS.c.id == POST_ID)
         .values(like_count=POSTS.c.like_count + _CREATED, updated_at=POSTS.c.updated_at)
         .returning(POSTS.c.like_count).cte("bump"))
LIKE_IN_ONE_STATEMENT = select(_TARGET.c.author_id, _TARGET.c.status,
                               select(_BUMP.c.like_count).scalar_subquery().label("like_count"),
                               _CREATED.label("created"), _TARGET.c.name)


def like_post(user_id: int, post_id: int) -> tuple[dict, bool]:
    """Like a post once (within LIKES_PER_MINUTE); returns the like status and whether this call created the like."""
    limit_write("likes", user_id)
    try:
        if db.engine.dialect.name == "postgresql":
            with one_statement() as connection:
                row = connection.execute(LIKE_IN_ONE_STATEMENT,
                                         {"user_id": user_id, "post_id": post_id, "now": utcnow()}).first()
            if row is None:
                raise PostNotFound()
            author_id, status, like_count, created, name = row
        else:
            author_id, status, like_count, created, name = _like_step_by_step(user_id, post_id)
    except IntegrityError:  # the post was deleted meanwhile
        db.session.rollback()
        raise PostNotFound() from None
    ensure_writer_status(status)
    if author_id == user_id:
        raise CannotLikeOwnPost()
    if created:  # committed by now, on either path
        events.publish([events.like_created(author_id, post_id, {"id": user_id, "name": name}, like_count)])
    return {"post_id": post_id, "liked": True, "like_count": like_count}, bool(created)


# The like's row goes in only if the post is someone else's and the liker may write.
INSERT_LIKE = (sqlite.insert(LIKES).from_select(
    ["user_id", "post_id", "created_at"],
    select(USER_ID, POSTS.c.id, NOW).join_from(POSTS, USERS, USERS.c.id == USER_ID)
    .where(POSTS.c.id == POST_ID, POSTS.c.author_id != USER_ID, may_write(USERS.c.email_status)))
    .on_conflict_do_nothing().returning(LIKES.c.post_id))
# Why nothing changed (or the count to answer with): the post and the writer as they are.
LIKE_STATE = (select(POSTS.c.author_id, USERS.c.email_status.label("status"), POSTS.c.like_count, USERS.c.name)
              .select_from(POSTS.outerjoin(USERS, USERS.c.id == USER_ID)).where(POSTS.c.id == POST_ID))
DELETE_LIKE = (LIKES.delete().where(LIKES.c.user_id == USER_ID, LIKES.c.post_id == POST_ID,
                                    exists().where(USERS.c.id == USER_ID, may_write(USERS.c.email_status)))
               .returning(LIKES.c.post_id))


def _like_step_by_step(user_id: int, post_id: int) -> tuple:
    """LIKE_IN_ONE_STATEMENT where writable CTEs do not exist (SQLite, in-process): two statements.

    The conditional insert, then the counter when it inserted, or the state when it did not.
    """
    ids = {"user_id": user_id, "post_id": post_id}
    created = db.session.execute(INSERT_LIKE, {**ids, "now": utcnow()}).first() is not None
    if created:
        author_id, like_count, name = _adjust_like_count(post_id, +1, liker_id=user_id)
        db.session.commit()
        return author_id, "valid", like_count, True, name
    row = db.session.execute(LIKE_STATE, ids).first()
    if row is None:
        raise PostNotFound()
    author_id, status, like_count, name = row
    return author_id, status, like_count, False, name


def unlike_post(user_id: int, post_id: int) -> dict:
    """Remove my like if there is one; the answer is the same either way."""
    ids = {"user_id": user_id, "post_id": post_id}
    if db.session.execute(DELETE_LIKE, ids).first() is not None:
        author_id, like_count, _ = _adjust_like_count(post_id, -1)
        if like_count is not None:
            events.publish_after_commit(events.like_deleted(author_id, post_id, user_id, like_count))
    else:
        row = db.session.execute(LIKE_STATE, ids).first()
        if row is None:
            raise PostNotFound()
        _, status, like_count, _ = row
        ensure_writer_status(status)
    if like_count is None:
        db.session.rollback()
        raise PostNotFound()
    db.session.commit()
    return {"post_id": post_id, "liked": False, "like_count": like_count}


def _adjust_like_count(post_id: int, delta: int, liker_id: int | None = None) -> tuple:
    """Move the counter in the database, in the like's own transaction, and read it back with the post's
    author and the liker's name (for the live event): ``(author_id, like_count, name)``, or Nones."""
    liker_name = select(User.name).where(User.id == liker_id).scalar_subquery()
    row = db.session.execute(
        update(POSTS).where(POSTS.c.id == post_id)
        # updated_at is set to itself: a like is not an edit, so the column's onupdate must not fire.
        .values(like_count=POSTS.c.like_count + delta, updated_at=POSTS.c.updated_at)
        .returning(POSTS.c.author_id, POSTS.c.like_count, liker_name)
    ).first()
    return tuple(row) if row is not None else (None, None, None)


LIKES_OF_POST = (select(Like.created_at, Like.user_id, User.name).join(User, User.id == Like.user_id)
                 .where(Like.post_id == bindparam("post_id")))


def list_likes(post_id: int, *, limit: int, cursor: str | None) -> dict:
    """Who liked a post, newest first."""
    if db.session.scalar(select(POSTS.c.id).where(POSTS.c.id == post_id)) is None:
        raise PostNotFound()
    rows, next_cursor = paginate(
        LIKES_OF_POST, kind=f"likes:{post_id}", created_col=Like.created_at, tiebreak_col=Like.user_id,
        limit=limit, cursor=cursor, key=lambda row: (row.created_at, row.user_id), params={"post_id": post_id},
    )
    items = [{"user": {"id": row.user_id, "name": row.name}, "created_at": row.created_at} for row in rows]
    return {"items": items, "next_cursor": next_cursor}
