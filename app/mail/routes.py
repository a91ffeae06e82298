"""Confirming the account's address with a mailed code, and the development mail outbox."""

from flask.views import MethodView

from app.auth.tokens import current_user_id, token_required
from app.core.api import Blueprint
from app.core.schemas import BEARER_AUTH, ErrorSchema
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
    @token_required()
    @blp.doc(security=BEARER_AUTH)
    @blp.arguments(EmailConfirmSchema)
    @blp.response(200, ProfileSchema)
    @blp.alt_response(400, schema=ErrorSchema, description="`invalid_code` (with `attempts_left`), `code_expired`")
    @blp.alt_response(409, schema=ErrorSchema, description="`email_already_confirmed`, `no_email`")
    @blp.alt_response(429, schema=ErrorSchema, description="`too_many_attempts` (the code is burned)")
    def post(self, data):
        """Confirm my email address with the 6-digit code mailed to it"""
        services.confirm_email(current_user_id(), data["code"])
        return profile_of(current_user_id())


@blp.route("/code")
class EmailCode(MethodView):
    @token_required()
    @blp.doc(security=BEARER_AUTH)
    @blp.response(202, EmailCodeSentSchema)
    @blp.alt_response(409, schema=ErrorSchema, description="`email_already_confirmed`, `no_email`")
    @blp.alt_response(429, schema=ErrorSchema, description="`resend_too_soon`, `too_many_codes` (with `Retry-After`)")
    def post(self):
        """Mail a new confirmation code to my unconfirmed email address"""
        return services.request_confirmation_code(current_user_id())


@outbox_blp.route("/mail-outbox")
class MailOutbox(MethodView):
    @outbox_blp.arguments(MailOutboxArgsSchema, location="query")
    @outbox_blp.response(200, MailOutboxSchema)
    @outbox_blp.alt_response(404, schema=ErrorSchema, description="`not_found`: MAIL_BACKEND is not `outbox`")
    def get(self, args):
        """The mail the outbox backend sent to an address, newest first (only while MAIL_BACKEND=outbox)"""
        return {"items": services.outbox(args["email"])}
