"""Phone sign-in by SMS code, and the development SMS outbox."""

from flask.views import MethodView

from app.auth.tokens import OPTIONAL_ACCESS_TOKEN, current_user
from app.core.api import Blueprint, client_address
from app.core.errors import (CodeExpired, TooManyCodes, InvalidCode, PhoneTaken, RateLimited, ResendTooSoon,
                             SmsOutboxDisabled, TooManyAttempts, ValidationFailed)
from app.phone import services
from app.phone.schemas import (OutboxArgsSchema, OutboxSchema, PhoneCodeRequestSchema, PhoneCodeSentSchema,
                               PhoneSessionSchema, PhoneVerifySchema)
from app.users.services import profile_of

blp = Blueprint("phone", __name__, url_prefix="/api/v1/auth/phone", description="Phone sign-in by SMS code")
# Registered only while SMS_BACKEND=outbox: otherwise the route and its OpenAPI operation do not exist (SPEC 5).
outbox_blp = Blueprint("sms_outbox", __name__, url_prefix="/api/v1/dev",
                       description="Development: the messages the outbox backend sent")


@blp.route("/code")
class PhoneCode(MethodView):
    @blp.operation(errors=[ValidationFailed.when("not a valid phone number"),
                           ResendTooSoon, TooManyCodes, RateLimited])
    @blp.arguments(PhoneCodeRequestSchema)
    @blp.response(202, PhoneCodeSentSchema)
    def post(self, data):
        """Send a 4-digit sign-in code to a phone by SMS"""
        return services.request_code(phone=data["phone"], client_address=client_address())


@blp.route("/verify")
class PhoneVerify(MethodView):
    @blp.operation(auth=OPTIONAL_ACCESS_TOKEN, errors=[
        InvalidCode.when("a wrong code, with `attempts_left`"), CodeExpired,
        PhoneTaken.when("adding a phone another account has"),
        TooManyAttempts.when("the code is burned"), RateLimited])
    @blp.arguments(PhoneVerifySchema)
    @blp.response(200, PhoneSessionSchema)
    def post(self, data):
        """Sign in with a phone code (creating the account the first time); with a token, add the phone to it"""
        session = services.verify_code(phone=data["phone"], code=data["code"], client_address=client_address(),
                                       current=current_user or None)
        return {**session, "user": profile_of(session["user"].id)}


@outbox_blp.route("/sms-outbox")
class SmsOutbox(MethodView):
    @outbox_blp.operation(errors=[SmsOutboxDisabled.when("SMS_BACKEND is not `outbox`")])
    @outbox_blp.arguments(OutboxArgsSchema, location="query")
    @outbox_blp.response(200, OutboxSchema)
    def get(self, args):
        """The messages the outbox backend sent to a phone, newest first (only while SMS_BACKEND=outbox)"""
        return {"items": services.outbox(args["phone"])}
