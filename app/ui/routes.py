"""The pages of the web interface: thin shells; their scripts call the same REST API as any client."""

from flask import Blueprint, current_app, render_template

blp = Blueprint("ui", __name__, template_folder="templates", static_folder="static", static_url_path="/ui/static")


@blp.get("/")
def feed():
    """Everyone's posts, newest first, and a form to write one."""
    return render_template("ui/feed.html", page="feed")


@blp.get("/signin")
def signin():
    """Sign in by phone or email, or sign up by email."""
    # Only the backend's name reaches the page, so it can say where the code went (and read the dev outbox).
    return render_template("ui/signin.html", page="signin", sms_backend=current_app.config["SMS_BACKEND"] or "",
                           mail_backend=current_app.config["MAIL_BACKEND"] or "")


@blp.get("/profile")
def profile():
    """My profile: contact details, checks, confirming my email, invite code, referrals, points."""
    # The mail backend's name, so the page can say where a confirmation code went (and read the dev outbox).
    return render_template("ui/profile.html", page="profile", mail_backend=current_app.config["MAIL_BACKEND"] or "")


@blp.get("/users/<id:user_id>")
def user(user_id: int):
    """A user's public profile and posts."""
    return render_template("ui/user.html", page="user", user_id=user_id)


@blp.get("/conversations")
def conversations():
    """My conversations, and a form to start one."""
    return render_template("ui/conversations.html", page="conversations")


@blp.get("/conversations/<id:conversation_id>")
def conversation(conversation_id: int):
    """One conversation's messages, and a form to post one."""
    return render_template("ui/conversation.html", page="conversation", conversation_id=conversation_id)
