"""The signed-in user's profile, and public profiles."""

from flask.views import MethodView

from app.core.api import Blueprint, client_address
from app.core.openapi import link, links
from app.auth.tokens import ACCESS_TOKEN, OPTIONAL_ACCESS_TOKEN, current_user, current_user_id
from app.core.errors import (EmailTaken, InviteAlreadyActivated, InviteCodeNotFound, OwnInviteCode, RateLimited,
                             ReferralCycle, TooManyFailedLogins, UserNotFound, ValidationFailed)
from app.core.schemas import PageArgsSchema
from app.users import services
from app.users.schemas import (InviteActivationSchema, ProfileSchema, ProfileUpdateSchema, ProfileUpdatedSchema,
                               PublicProfileSchema, ReferralPageSchema)

blp = Blueprint("users", __name__, url_prefix="/api/v1/users", description="Profiles")


@blp.route("/me")
class Me(MethodView):
    @blp.operation(auth=ACCESS_TOKEN)
    @blp.response(200, ProfileSchema)
    @blp.doc(**links(200, GetPublicProfile=link("get", "/api/v1/users/{user_id}", "My public profile",
                                                 user_id="$response.body#/id"),
                     ListMyPosts=link("get", "/api/v1/posts", "My posts", author_id="$response.body#/id")))
    def get(self):
        """Show my profile"""
        return services.profile_of(current_user_id())

    @blp.operation(auth=ACCESS_TOKEN, errors=[
        EmailTaken,
        ValidationFailed.when("also when a new email or password comes without the right `current_password` (or "
                              "`phone_code`, for an account with no password)"),
        TooManyFailedLogins.when("wrong `current_password`s or `phone_code`s count as failed logins"),
        RateLimited.when("phone code checks from this address")])
    # The example changes the name only: a new email or password ends every earlier session.
    @blp.arguments(ProfileUpdateSchema, example={"name": "Ada Lovelace"})
    @blp.response(200, ProfileUpdatedSchema)
    def patch(self, changes):
        """Change my name, email or password (email and password need my current password; either ends my other sessions)"""
        return services.update_profile(current_user, **changes, client_address=client_address())


@blp.route("/me/invite")
class Invite(MethodView):
    @blp.operation(auth=ACCESS_TOKEN, errors=[InviteCodeNotFound, InviteAlreadyActivated, OwnInviteCode,
                                              ReferralCycle])
    @blp.arguments(InviteActivationSchema)
    @blp.response(200, ProfileSchema)
    def post(self, data):
        """Activate someone else's invite code (once in a lifetime)"""
        return services.activate_invite_code(current_user, data["invite_code"])


@blp.route("/me/referrals")
class Referrals(MethodView):
    @blp.operation(auth=ACCESS_TOKEN)
    @blp.arguments(PageArgsSchema, location="query")
    @blp.response(200, ReferralPageSchema)
    def get(self, args):
        """The users who activated my invite code, newest first"""
        return services.list_referrals(current_user, **args)


@blp.route("/<id:user_id>")
class PublicProfile(MethodView):
    @blp.operation(auth=OPTIONAL_ACCESS_TOKEN, errors=[UserNotFound])
    @blp.response(200, PublicProfileSchema)
    def get(self, user_id):
        """Show a user's public profile"""
        return services.public_profile(user_id)
