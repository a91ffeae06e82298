"""Email signup, login, token refresh and logout."""

from flask import request
from flask.views import MethodView
from flask_jwt_extended import get_jwt, jwt_required

from app.api import Blueprint
from app.auth.tokens import current_user
from app.auth import services
from app.auth.schemas import (AccessTokenSchema, LoginSchema, LogoutSchema, PhoneCodeRequestSchema,
                              PhoneCodeSentSchema, PhoneSessionSchema, PhoneVerifySchema, SessionSchema,
                              SignupSchema)
from app.schemas import BEARER_AUTH, OPTIONAL_BEARER_AUTH, ErrorSchema
from app.users.services import profile, profile_of

blp = Blueprint("auth", __name__, url_prefix="/api/v1/auth", description="Email and phone sign-in, tokens")


def client_address() -> str:
    """The caller's address (the real client's behind TRUSTED_PROXIES hops)."""
    return request.remote_addr or "unknown"


@blp.route("/signup")
class Signup(MethodView):
    @blp.arguments(SignupSchema)
    @blp.response(201, SessionSchema)
    @blp.alt_response(409, schema=ErrorSchema, description="`email_taken`")
    def post(self, data):
        """Create an email account and log it in"""
        user_id, tokens = services.signup(**data)
        return {"user": profile_of(user_id), **tokens}


@blp.route("/login")
class Login(MethodView):
    @blp.arguments(LoginSchema)
    @blp.response(200, SessionSchema)
    @blp.alt_response(401, schema=ErrorSchema, description="`invalid_credentials`")
    @blp.alt_response(429, schema=ErrorSchema, description="`too_many_failed_logins` (with `Retry-After`)")
    def post(self, data):
        """Exchange an email and password for tokens"""
        user_id, tokens = services.login(**data, client_address=client_address())
        return {"user": profile_of(user_id), **tokens}


@blp.route("/refresh")
class Refresh(MethodView):
    @jwt_required(refresh=True)
    @blp.doc(security=BEARER_AUTH)
    @blp.response(200, AccessTokenSchema)
    def post(self):
        """Get a new access token with a refresh token"""
        return {"access_token": services.refresh(current_user)}


@blp.route("/logout")
class Logout(MethodView):
    @jwt_required(verify_type=False)
    @blp.doc(security=BEARER_AUTH)
    @blp.arguments(LogoutSchema)
    @blp.response(204)
    def post(self, data):
        """Revoke the presented token, and the refresh token given in the body"""
        services.logout(current_user, get_jwt(), data["refresh_token"])


@blp.route("/phone/code")
class PhoneCode(MethodView):
    @blp.arguments(PhoneCodeRequestSchema)
    @blp.response(202, PhoneCodeSentSchema)
    @blp.alt_response(422, schema=ErrorSchema, description="`validation_error`: not a valid phone number")
    @blp.alt_response(429, schema=ErrorSchema,
                      description="`resend_too_soon`, `too_many_codes`, `rate_limited` (with `Retry-After`)")
    def post(self, data):
        """Send a 4-digit sign-in code to a phone by SMS"""
        return services.request_phone_code(phone=data["phone"], client_address=client_address())


@blp.route("/phone/verify")
class PhoneVerify(MethodView):
    @jwt_required(optional=True)
    @blp.doc(security=OPTIONAL_BEARER_AUTH)
    @blp.arguments(PhoneVerifySchema)
    @blp.response(200, PhoneSessionSchema)
    @blp.alt_response(400, schema=ErrorSchema, description="`invalid_code` (with `attempts_left`), `code_expired`")
    @blp.alt_response(409, schema=ErrorSchema, description="`phone_taken`: adding a phone another account has")
    @blp.alt_response(429, schema=ErrorSchema, description="`too_many_attempts` (the code is burned), `rate_limited`")
    def post(self, data):
        """Sign in with a phone code (creating the account the first time); with a token, add the phone to it"""
        session = services.verify_phone_code(phone=data["phone"], code=data["code"],
                                             client_address=client_address(),
                                             current=current_user or None)
        return {**session, "user": profile(session["user"])}
