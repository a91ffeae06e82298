"""Confirming the account's address with a mailed code, and the development mail outbox."""

from flask.views import MethodView

from app.auth.tokens import ACCESS_TOKEN, current_user_id
from app.core.api import Blueprint
from app.core.errors import (EmailAlreadyConfirmed, EmailCodeExpired, TooManyEmailCodes, InvalidCode,
                             MailOutboxDisabled, NoEmail, ResendTooSoon, TooManyAttempts)
from app.mail import services
from app.mail.schemas import EmailCodeSentSchema, EmailConfirmSchema, MailOutboxArgsSchema, MailOutboxSchema
from app.users.schemas import ProfileSchema
from app.users.services import profile_of

blp = Blueprint("email", __name__, url_prefix="/api/v1/auth/email", description="Proving an email address")
# Registered only while MAIL_BACKEND=outbox: otherwise the route and its OpenAPI operation do not exist (SPEC 4).
outbox_blp = Blueprint("mail_outbox", __name__, url_prefix="/api/v1/dev",
                       description="Development: the mail the outbox backend sent")


@blp.route("/confirm")
class EmailConfirm(MethodView):
    @blp.operation(auth=ACCESS_TOKEN, errors=[
        InvalidCode.when("a wrong code, with `attempts_left`"), EmailCodeExpired, EmailAlreadyConfirmed, NoEmail,
        TooManyAttempts.when("the code is burned")])
    @blp.arguments(EmailConfirmSchema)
    @blp.response(200, ProfileSchema)
    def post(self, data):
        """Confirm my email address with the 6-digit code mailed to it"""
        services.confirm_email(current_user_id(), data["code"])
        return profile_of(current_user_id())


@blp.route("/code")
class EmailCode(MethodView):
    @blp.operation(auth=ACCESS_TOKEN, errors=[EmailAlreadyConfirmed, NoEmail, ResendTooSoon, TooManyEmailCodes])
    @blp.response(202, EmailCodeSentSchema)
    def post(self):
        """Mail a new confirmation code to my unconfirmed email address"""
        return services.request_confirmation_code(current_user_id())


@outbox_blp.route("/mail-outbox")
class MailOutbox(MethodView):
    @outbox_blp.operation(errors=[MailOutboxDisabled.when("MAIL_BACKEND is not `outbox`")])
    @outbox_blp.arguments(MailOutboxArgsSchema, location="query")
    @outbox_blp.response(200, MailOutboxSchema)
    def get(self, args):
        """The mail the outbox backend sent to an address, newest first (only while MAIL_BACKEND=outbox)"""
        return {"items": services.outbox(args["email"])}
