"""Posts and likes."""

from flask.views import MethodView
from flask_jwt_extended import jwt_required

from app.core.api import Blueprint
from app.auth.tokens import current_user, current_user_id
from app.posts import services
from app.posts.schemas import (LikePageSchema, LikeStatusSchema, PostCreateSchema, PostListArgsSchema,
                               PostPageSchema, PostSchema, PostUpdateSchema)
from app.core.schemas import BEARER_AUTH, OPTIONAL_BEARER_AUTH, ErrorSchema, PageArgsSchema

blp = Blueprint("posts", __name__, url_prefix="/api/v1/posts", description="Posts and likes")


@blp.route("")
class Posts(MethodView):
    @jwt_required(optional=True)
    @blp.doc(security=OPTIONAL_BEARER_AUTH)
    @blp.arguments(PostListArgsSchema, location="query")
    @blp.response(200, PostPageSchema)
    def get(self, args):
        """List posts, newest first"""
        return services.list_posts(viewer_id=current_user_id(), **args)

    @jwt_required()
    @blp.doc(security=BEARER_AUTH)
    @blp.arguments(PostCreateSchema)
    @blp.response(201, PostSchema)
    @blp.alt_response(403, schema=ErrorSchema, description="`email_undeliverable`")
    def post(self, data):
        """Write a post"""
        return services.create_post(current_user_id(), **data)


@blp.route("/<id:post_id>")
class PostItem(MethodView):
    @jwt_required(optional=True)
    @blp.doc(security=OPTIONAL_BEARER_AUTH)
    @blp.response(200, PostSchema)
    @blp.alt_response(404, schema=ErrorSchema, description="`post_not_found`")
    def get(self, post_id):
        """Show a post"""
        return services.get_post(post_id, viewer_id=current_user_id())

    @jwt_required()
    @blp.doc(security=BEARER_AUTH)
    @blp.arguments(PostUpdateSchema)
    @blp.response(200, PostSchema)
    @blp.alt_response(403, schema=ErrorSchema, description="`not_author`, `email_undeliverable`")
    @blp.alt_response(404, schema=ErrorSchema, description="`post_not_found`")
    def patch(self, changes, post_id):
        """Change my post"""
        return services.update_post(current_user, post_id, **changes)

    @jwt_required()
    @blp.doc(security=BEARER_AUTH)
    @blp.response(204)
    @blp.alt_response(403, schema=ErrorSchema, description="`not_author`, `email_undeliverable`")
    @blp.alt_response(404, schema=ErrorSchema, description="`post_not_found`")
    def delete(self, post_id):
        """Delete my post and its likes"""
        services.delete_post(current_user, post_id)


@blp.route("/<id:post_id>/like")
class PostLike(MethodView):
    decorators = [jwt_required()]

    @blp.doc(security=BEARER_AUTH)
    @blp.response(201, LikeStatusSchema, description="The like was created")
    @blp.alt_response(200, schema=LikeStatusSchema, description="Already liked: nothing changed")
    @blp.alt_response(403, schema=ErrorSchema, description="`cannot_like_own_post`, `email_undeliverable`")
    @blp.alt_response(404, schema=ErrorSchema, description="`post_not_found`")
    def post(self, post_id):
        """Like a post (at most once)"""
        status, created = services.like_post(current_user_id(), post_id)
        return status, 201 if created else 200

    @blp.doc(security=BEARER_AUTH)
    @blp.response(200, LikeStatusSchema)
    @blp.alt_response(404, schema=ErrorSchema, description="`post_not_found`")
    def delete(self, post_id):
        """Unlike a post (whether or not I liked it)"""
        return services.unlike_post(current_user_id(), post_id)


@blp.route("/<id:post_id>/likes")
class PostLikes(MethodView):
    @blp.arguments(PageArgsSchema, location="query")
    @blp.response(200, LikePageSchema)
    @blp.alt_response(404, schema=ErrorSchema, description="`post_not_found`")
    def get(self, args, post_id):
        """List a post's likes, newest first"""
        return services.list_likes(post_id, **args)
