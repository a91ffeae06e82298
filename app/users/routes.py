"""The signed-in user's profile, and public profiles."""

from flask.views import MethodView

from app.core.api import Blueprint, client_address
from app.core.docs import link, links
from app.auth.tokens import current_user, current_user_id, token_required
from app.core.schemas import BEARER_AUTH, OPTIONAL_BEARER_AUTH, RETRY_AFTER_HEADER, ErrorSchema, PageArgsSchema
from app.users import services
from app.users.schemas import (InviteActivationSchema, ProfileSchema, ProfileUpdateSchema, ProfileUpdatedSchema,
                               PublicProfileSchema, ReferralPageSchema)

blp = Blueprint("users", __name__, url_prefix="/api/v1/users", description="Profiles")


@blp.route("/me")
class Me(MethodView):
    decorators = [token_required()]

    @blp.doc(security=BEARER_AUTH)
    @blp.response(200, ProfileSchema)
    @blp.doc(**links(200, GetPublicProfile=link("get", "/api/v1/users/{user_id}", "My public profile",
                                                 user_id="$response.body#/id"),
                     ListMyPosts=link("get", "/api/v1/posts", "My posts", author_id="$response.body#/id")))
    def get(self):
        """Show my profile"""
        return services.profile_of(current_user_id())

    @blp.doc(security=BEARER_AUTH)
    # The example changes the name only: a new email or password ends every earlier session.
    @blp.arguments(ProfileUpdateSchema, example={"name": "Ada Lovelace"})
    @blp.response(200, ProfileUpdatedSchema)
    @blp.alt_response(409, schema=ErrorSchema, description="`email_taken`")
    @blp.alt_response(422, schema=ErrorSchema, description="`validation_error`: also when a new email or password "
                                                           "comes without the right `current_password` (or "
                                                           "`phone_code`, for an account with no password)")
    @blp.alt_response(429, schema=ErrorSchema, headers=RETRY_AFTER_HEADER,
                      description="`too_many_failed_logins`: wrong `current_password`s or `phone_code`s count "
                                  "as failed logins; `rate_limited`: phone code checks from this address")
    def patch(self, changes):
        """Change my name, email or password (email and password need my current password; either ends my other sessions)"""
        return services.update_profile(current_user, **changes, client_address=client_address())


@blp.route("/me/invite")
class Invite(MethodView):
    @token_required()
    @blp.doc(security=BEARER_AUTH)
    @blp.arguments(InviteActivationSchema)
    @blp.response(200, ProfileSchema)
    @blp.alt_response(404, schema=ErrorSchema, description="`invite_code_not_found`")
    @blp.alt_response(409, schema=ErrorSchema, description="`invite_already_activated`")
    @blp.alt_response(422, schema=ErrorSchema, description="`own_invite_code`, `referral_cycle`")
    def post(self, data):
        """Activate someone else's invite code (once in a lifetime)"""
        return services.activate_invite_code(current_user, data["invite_code"])


@blp.route("/me/referrals")
class Referrals(MethodView):
    @token_required()
    @blp.doc(security=BEARER_AUTH)
    @blp.arguments(PageArgsSchema, location="query")
    @blp.response(200, ReferralPageSchema)
    def get(self, args):
        """The users who activated my invite code, newest first"""
        return services.list_referrals(current_user, **args)


@blp.route("/<id:user_id>")
class PublicProfile(MethodView):
    @token_required(optional=True)
    @blp.doc(security=OPTIONAL_BEARER_AUTH)
    @blp.response(200, PublicProfileSchema)
    @blp.alt_response(404, schema=ErrorSchema, description="`user_not_found`")
    def get(self, user_id):
        """Show a user's public profile"""
        return services.public_profile(user_id)
