"""Posts and likes; like counts are kept exact by the database, under concurrency too."""

from sqlalchemy import delete, exists, false, select, update
from sqlalchemy.exc import IntegrityError

from app.database import insert_ignoring_conflicts, utcnow
from app.errors import CannotLikeOwnPost, NotAuthor, PostNotFound
from app.extensions import db
from app.pagination import paginate
from app.posts.models import Like, Post
from app.users.models import User
from app.users.services import ensure_can_write


def _with_liked_by_me(viewer_id: int | None):
    """Posts with their ``liked_by_me`` flag for ``viewer_id``, in the same query."""
    if viewer_id is None:
        liked = false()
    else:
        liked = exists().where(Like.post_id == Post.id, Like.user_id == viewer_id)
    return select(Post, liked.label("liked_by_me"))


def post_view(post: Post, liked_by_me: bool) -> dict:
    return {
        "id": post.id, "author": post.author, "title": post.title, "body": post.body,
        "like_count": post.like_count, "liked_by_me": bool(liked_by_me),
        "created_at": post.created_at, "updated_at": post.updated_at,
    }


def list_posts(*, viewer_id: int | None, author_id: int | None, limit: int, cursor: str | None) -> dict:
    """Posts newest first, optionally by one author."""
    query = _with_liked_by_me(viewer_id)
    if author_id is not None:
        query = query.where(Post.author_id == author_id)
    rows, next_cursor = paginate(
        query, kind="posts", created_col=Post.created_at, tiebreak_col=Post.id,
        limit=limit, cursor=cursor, key=lambda row: (row.Post.created_at, row.Post.id),
    )
    return {"items": [post_view(row.Post, row.liked_by_me) for row in rows], "next_cursor": next_cursor}


def get_post(post_id: int, *, viewer_id: int | None = None) -> dict:
    row = db.session.execute(_with_liked_by_me(viewer_id).where(Post.id == post_id)).first()
    if row is None:
        raise PostNotFound()
    return post_view(row.Post, row.liked_by_me)


def _authored_post(post_id: int, user: User) -> Post:
    post = db.session.get(Post, post_id)
    if post is None:
        raise PostNotFound()
    if post.author_id != user.id:
        raise NotAuthor()
    ensure_can_write(user)
    return post


def create_post(author: User, *, body: str, title: str | None = None) -> dict:
    ensure_can_write(author)
    post = Post(author=author, title=title, body=body)
    db.session.add(post)
    db.session.commit()
    return post_view(post, False)


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


def like_post(user: User, post_id: int) -> tuple[dict, bool]:
    """Like a post once; returns the like status and whether this call created the like."""
    post = db.session.get(Post, post_id)
    if post is None:
        raise PostNotFound()
    ensure_can_write(user)
    if post.author_id == user.id:
        raise CannotLikeOwnPost()
    try:
        created = db.session.execute(
            insert_ignoring_conflicts(Like.__table__)
            .values(user_id=user.id, post_id=post_id, created_at=utcnow())
            .returning(Like.__table__.c.post_id)
        ).first() is not None
        like_count = _adjust_like_count(post_id, +1) if created else _like_count(post_id)
    except IntegrityError:  # the post was deleted after we read it
        db.session.rollback()
        raise PostNotFound() from None
    if like_count is None:
        db.session.rollback()
        raise PostNotFound()
    db.session.commit()
    return {"post_id": post_id, "liked": True, "like_count": like_count}, created


def unlike_post(user: User, post_id: int) -> dict:
    """Remove my like if there is one; the answer is the same either way."""
    if db.session.get(Post, post_id) is None:
        raise PostNotFound()
    ensure_can_write(user)
    removed = db.session.execute(
        delete(Like).where(Like.user_id == user.id, Like.post_id == post_id).returning(Like.post_id)
    ).first() is not None
    like_count = _adjust_like_count(post_id, -1) if removed else _like_count(post_id)
    if like_count is None:
        db.session.rollback()
        raise PostNotFound()
    db.session.commit()
    return {"post_id": post_id, "liked": False, "like_count": like_count}


def _adjust_like_count(post_id: int, delta: int) -> int | None:
    """Move the counter in the database, in the like's own transaction, and read it back."""
    return db.session.execute(
        update(Post).where(Post.id == post_id)
        # updated_at is set to itself: a like is not an edit, so the column's onupdate must not fire.
        .values(like_count=Post.like_count + delta, updated_at=Post.updated_at)
        .returning(Post.like_count)
        .execution_options(synchronize_session=False)
    ).scalar_one_or_none()


def _like_count(post_id: int) -> int | None:
    return db.session.scalar(select(Post.like_count).where(Post.id == post_id))


def list_likes(post_id: int, *, limit: int, cursor: str | None) -> dict:
    """Who liked a post, newest first."""
    if db.session.get(Post, post_id) is None:
        raise PostNotFound()
    query = (
        select(Like.created_at, Like.user_id, User.name)
        .join(User, User.id == Like.user_id)
        .where(Like.post_id == post_id)
    )
    rows, next_cursor = paginate(
        query, kind=f"likes:{post_id}", created_col=Like.created_at, tiebreak_col=Like.user_id,
        limit=limit, cursor=cursor, key=lambda row: (row.created_at, row.user_id),
    )
    items = [{"user": {"id": row.user_id, "name": row.name}, "created_at": row.created_at} for row in rows]
    return {"items": items, "next_cursor": next_cursor}
