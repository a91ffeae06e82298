"""Users: creation, lookup, the profile and its changes."""

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from app.errors import DomainError, EmailTaken, EmailUndeliverable, UserNotFound
from app.extensions import db
from app.profile_checks.services import initial_check_statuses, queue_profile_checks
from app.posts.models import Post
from app.users.invite_codes import new_invite_code
from app.users.models import User

PROFILE_REFERRALS = 100
INVITE_CODE_ATTEMPTS = 8


def normalize_email(email: str) -> str:
    """Trim the address and lower-case its domain (the local part is the mail server's to judge)."""
    local, _, domain = email.strip().rpartition("@")
    return f"{local}@{domain.lower()}"


def find_by_email(email: str) -> User | None:
    return db.session.scalars(select(User).where(func.lower(User.email) == email.lower())).first()


def get_user(user_id: int) -> User:
    user = db.session.get(User, user_id)
    if user is None:
        raise UserNotFound()
    return user


def add_user(user: User) -> User:
    """Insert ``user`` with a unique invite code, retrying on the rare collision; no commit."""
    for _ in range(INVITE_CODE_ATTEMPTS):
        user.invite_code = new_invite_code()
        try:
            with db.session.begin_nested():
                db.session.add(user)
            return user
        except IntegrityError:
            if user.email and find_by_email(user.email):
                raise EmailTaken() from None
    raise DomainError("Could not allocate an invite code; try again.")


def ensure_can_write(user: User) -> None:
    """Users whose email Hunter found undeliverable may read but not write."""
    if user.email_status == "invalid":
        raise EmailUndeliverable()


def profile(user: User) -> dict:
    """The private profile of SPEC 5: the user, their referrals and counts."""
    referred = db.session.execute(
        select(User.phone, User.email)
        .where(User.referred_by_id == user.id)
        .order_by(User.referred_at.desc(), User.id.desc())
        .limit(PROFILE_REFERRALS)
    ).all()
    referrer = db.session.get(User, user.referred_by_id) if user.referred_by_id else None
    return {
        "user": user,
        "referred_by": referrer,
        "referrals": [phone or email for phone, email in referred],
        "referral_count": count_referrals(user.id),
        "post_count": count_posts(user.id),
    }


def count_referrals(user_id: int) -> int:
    return db.session.scalar(select(func.count()).select_from(User).where(User.referred_by_id == user_id))


def count_posts(user_id: int) -> int:
    return db.session.scalar(select(func.count()).select_from(Post).where(Post.author_id == user_id))


def public_profile(user_id: int) -> dict:
    """What anyone may see of a user: no email, no phone."""
    user = get_user(user_id)
    return {"user": user, "post_count": count_posts(user.id), "referral_count": count_referrals(user.id)}


def update_profile(user: User, *, name=..., email=...) -> dict:
    """Change the name and/or email; a new email is verified and enriched again."""
    email_changed = False
    if name is not ...:
        user.name = name
    if email is not ...:
        email = normalize_email(email)
        if email != user.email:
            if email.lower() != (user.email or "").lower():
                existing = find_by_email(email)
                if existing is not None and existing.id != user.id:
                    raise EmailTaken()
                email_changed = True
                for field, value in initial_check_statuses().items():
                    setattr(user, field, value)
            user.email = email
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        raise EmailTaken() from None
    if email_changed:
        queue_profile_checks(user)
    return profile(user)
