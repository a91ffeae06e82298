"""Email signup, login, token refresh and logout (phone sign-in: ``app.phone.routes``)."""

from flask.views import MethodView

from app.core.api import Blueprint, client_address
from app.core.openapi import link, links
from app.core.errors import (EmailTaken, InvalidCode, InvalidCredentials, ServiceUnavailable, TooManyFailedLogins,
                             TooManyRequests)
from app.auth.tokens import ANY_TOKEN, REFRESH_TOKEN, current_claims, current_user
from app.auth import services
from app.auth.schemas import (AcceptedSchema, ForgotPasswordSchema, LoginSchema, LogoutSchema, ResetPasswordSchema,
                              SessionSchema, SignupSchema, TokenPairSchema)
from app.users.services import profile_of

blp = Blueprint("auth", __name__, url_prefix="/api/v1/auth", description="Email sign-in and tokens")


@blp.route("/signup")
class Signup(MethodView):
    @blp.operation(errors=[EmailTaken, TooManyRequests.when("over `SIGNUPS_PER_IP_PER_HOUR` from this address")])
    @blp.arguments(SignupSchema)
    @blp.response(201, SessionSchema)
    @blp.doc(**links(201, GetPublicProfile=link("get", "/api/v1/users/{user_id}", "The new account's public profile",
                                                 user_id="$response.body#/user/id")))
    def post(self, data):
        """Create an email account and log it in"""
        user_id, tokens = services.signup(**data, client_address=client_address())
        return {"user": profile_of(user_id), **tokens}


@blp.route("/login")
class Login(MethodView):
    @blp.operation(errors=[InvalidCredentials, TooManyFailedLogins])
    @blp.arguments(LoginSchema)
    @blp.response(200, SessionSchema)
    def post(self, data):
        """Exchange an email and password for tokens"""
        user_id, tokens = services.login(**data, client_address=client_address())
        return {"user": profile_of(user_id), **tokens}


@blp.route("/refresh")
class Refresh(MethodView):
    @blp.operation(auth=REFRESH_TOKEN)
    @blp.response(200, TokenPairSchema)
    def post(self):
        """Exchange a refresh token for new tokens (it is spent: refresh tokens rotate)"""
        return services.refresh(current_user, current_claims())


@blp.route("/logout")
class Logout(MethodView):
    @blp.operation(auth=ANY_TOKEN)
    @blp.arguments(LogoutSchema)
    @blp.response(204)
    def post(self, data):
        """Revoke the presented token, and the refresh token given in the body, ending their sessions"""
        services.logout(current_user, current_claims(), data["refresh_token"])


@blp.route("/password/forgot")
class ForgotPassword(MethodView):
    @blp.operation(errors=[
        TooManyRequests.when("over `EMAIL_CODES_PER_HOUR` for this address or `PASSWORD_RESETS_PER_IP_PER_HOUR` "
                             "from this client, whether an account has the address or not"),
        ServiceUnavailable.when("mail cannot be queued")])
    @blp.arguments(ForgotPasswordSchema)
    @blp.response(202, AcceptedSchema)
    def post(self, data):
        """Mail a password reset code, if an account has the address (the answer is the same for every address)"""
        services.forgot_password(email=data["email"], client_address=client_address())
        return {}


@blp.route("/password/reset")
class ResetPassword(MethodView):
    @blp.operation(errors=[InvalidCode.when("a wrong, spent or expired code, or an address no account has "
                                            "(one answer for all)")])
    @blp.arguments(ResetPasswordSchema)
    @blp.response(200, SessionSchema)
    def post(self, data):
        """Set a new password with a mailed reset code: the address is confirmed, every earlier session ends"""
        user_id, tokens = services.reset_password(**data)
        return {"user": profile_of(user_id), **tokens}

