"""Email signup, login, token refresh and logout."""

from flask.views import MethodView
from flask_jwt_extended import current_user, get_jwt, jwt_required

from app.api import Blueprint
from app.auth import services
from app.auth.schemas import AccessTokenSchema, LoginSchema, LogoutSchema, SessionSchema, SignupSchema
from app.schemas import BEARER_AUTH, ErrorSchema
from app.users.services import profile

blp = Blueprint("auth", __name__, url_prefix="/api/v1/auth", description="Email accounts and tokens")


@blp.route("/signup")
class Signup(MethodView):
    @blp.arguments(SignupSchema)
    @blp.response(201, SessionSchema)
    @blp.alt_response(409, schema=ErrorSchema, description="`email_taken`")
    def post(self, data):
        """Create an email account and log it in"""
        user, tokens = services.signup(**data)
        return {"user": profile(user), **tokens}


@blp.route("/login")
class Login(MethodView):
    @blp.arguments(LoginSchema)
    @blp.response(200, SessionSchema)
    @blp.alt_response(401, schema=ErrorSchema, description="`invalid_credentials`")
    def post(self, data):
        """Exchange an email and password for tokens"""
        user, tokens = services.login(**data)
        return {"user": profile(user), **tokens}


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
