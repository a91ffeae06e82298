"""Phone sign-in by SMS code, and the development SMS outbox."""

from flask.views import MethodView

from app.auth.tokens import current_user, token_required
from app.core.api import Blueprint, client_address
from app.core.schemas import OPTIONAL_BEARER_AUTH, ErrorSchema
from app.phone import services
from app.phone.schemas import (OutboxArgsSchema, OutboxSchema, PhoneCodeRequestSchema, PhoneCodeSentSchema,
                               PhoneSessionSchema, PhoneVerifySchema)
from app.users.services import profile

blp = Blueprint("phone", __name__, url_prefix="/api/v1/auth/phone", description="Phone sign-in by SMS code")
# Registered only while SMS_BACKEND=outbox: otherwise the route and its OpenAPI operation do not exist (SPEC 5).
outbox_blp = Blueprint("sms_outbox", __name__, url_prefix="/api/v1/dev",
                       description="Development: the messages the outbox backend sent")


@blp.route("/code")
class PhoneCode(MethodView):
    @blp.arguments(PhoneCodeRequestSchema)
    @blp.response(202, PhoneCodeSentSchema)
    @blp.alt_response(422, schema=ErrorSchema, description="`validation_error`: not a valid phone number")
    @blp.alt_response(429, schema=ErrorSchema,
                      description="`resend_too_soon`, `too_many_codes`, `rate_limited` (with `Retry-After`)")
    def post(self, data):
        """Send a 4-digit sign-in code to a phone by SMS"""
        return services.request_code(phone=data["phone"], client_address=client_address())


@blp.route("/verify")
class PhoneVerify(MethodView):
    @token_required(optional=True)
    @blp.doc(security=OPTIONAL_BEARER_AUTH)
    @blp.arguments(PhoneVerifySchema)
    @blp.response(200, PhoneSessionSchema)
    @blp.alt_response(400, schema=ErrorSchema, description="`invalid_code` (with `attempts_left`), `code_expired`")
    @blp.alt_response(409, schema=ErrorSchema, description="`phone_taken`: adding a phone another account has")
    @blp.alt_response(429, schema=ErrorSchema, description="`too_many_attempts` (the code is burned), `rate_limited`")
    def post(self, data):
        """Sign in with a phone code (creating the account the first time); with a token, add the phone to it"""
        session = services.verify_code(phone=data["phone"], code=data["code"], client_address=client_address(),
                                       current=current_user or None)
        return {**session, "user": profile(session["user"])}


@outbox_blp.route("/sms-outbox")
class SmsOutbox(MethodView):
    @outbox_blp.arguments(OutboxArgsSchema, location="query")
    @outbox_blp.response(200, OutboxSchema)
    @outbox_blp.alt_response(404, schema=ErrorSchema, description="`not_found`: SMS_BACKEND is not `outbox`")
    def get(self, args):
        """The messages the outbox backend sent to a phone, newest first (only while SMS_BACKEND=outbox)"""
        return {"items": services.outbox(args["phone"])}
