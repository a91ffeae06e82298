"""Posts and likes."""

from flask.views import MethodView

from app.core.api import Blueprint
from app.core.docs import link, links
from app.auth.tokens import current_user, current_user_id, token_required
from app.posts import services
from app.posts.schemas import (LikePageSchema, LikeStatusSchema, PostCreateSchema, PostListArgsSchema,
                               PostPageSchema, PostSchema, PostUpdateSchema)
from app.core.schemas import BEARER_AUTH, OPTIONAL_BEARER_AUTH, RETRY_AFTER_HEADER, ErrorSchema, PageArgsSchema

blp = Blueprint("posts", __name__, url_prefix="/api/v1/posts", description="Posts and likes")

POST = "/api/v1/posts/{post_id}"
BY_ID = "$response.body#/id"
BY_POST_ID = "$response.body#/post_id"


def post_links(post_id: str) -> dict:
    """Where a post (its id at ``post_id``, a runtime expression) can be read, changed, liked and removed."""
    return {
        "GetPost": link("get", POST, "The post", post_id=post_id),
        "UpdatePost": link("patch", POST, "Change it (its author only)", post_id=post_id),
        "DeletePost": link("delete", POST, "Delete it and its likes (its author only)", post_id=post_id),
        "LikePost": link("post", f"{POST}/like", "Like it (not one's own)", post_id=post_id),
        "UnlikePost": link("delete", f"{POST}/like", "Unlike it", post_id=post_id),
        "ListLikes": link("get", f"{POST}/likes", "Its likes", post_id=post_id),
    }


@blp.route("")
class Posts(MethodView):
    @token_required(optional=True)
    @blp.doc(security=OPTIONAL_BEARER_AUTH)
    @blp.arguments(PostListArgsSchema, location="query")
    @blp.response(200, PostPageSchema)
    @blp.doc(**links(200, GetNewestPost=link("get", POST, "The newest post of the page",
                                             post_id="$response.body#/items/0/id"),
                     LikeNewestPost=link("post", f"{POST}/like", "Like the newest post of the page",
                                         post_id="$response.body#/items/0/id"),
                     NextPage=link("get", "/api/v1/posts", "The next page",
                                   cursor="$response.body#/next_cursor")))
    def get(self, args):
        """List posts, newest first"""
        return services.list_posts(viewer_id=current_user_id(), **args)

    @token_required()
    @blp.doc(security=BEARER_AUTH)
    @blp.arguments(PostCreateSchema)
    @blp.response(201, PostSchema)
    @blp.alt_response(403, schema=ErrorSchema, description="`email_undeliverable`")
    @blp.alt_response(429, schema=ErrorSchema, headers=RETRY_AFTER_HEADER,
                      description="`too_many_requests`: over `POSTS_PER_MINUTE` (with `Retry-After`)")
    @blp.doc(**links(201, **post_links(BY_ID),
                     GetAuthor=link("get", "/api/v1/users/{user_id}", "The author's public profile",
                                    user_id="$response.body#/author/id")))
    def post(self, data):
        """Write a post"""
        return services.create_post(current_user_id(), **data)


@blp.route("/<id:post_id>")
class PostItem(MethodView):
    @token_required(optional=True)
    @blp.doc(security=OPTIONAL_BEARER_AUTH)
    @blp.response(200, PostSchema)
    @blp.alt_response(404, schema=ErrorSchema, description="`post_not_found`")
    @blp.doc(**links(200, **post_links(BY_ID)))
    def get(self, post_id):
        """Show a post"""
        return services.get_post(post_id, viewer_id=current_user_id())

    @token_required()
    @blp.doc(security=BEARER_AUTH)
    @blp.arguments(PostUpdateSchema)
    @blp.response(200, PostSchema)
    @blp.alt_response(403, schema=ErrorSchema, description="`not_author`, `email_undeliverable`")
    @blp.alt_response(404, schema=ErrorSchema, description="`post_not_found`")
    @blp.doc(**links(200, GetPost=link("get", POST, "The changed post", post_id=BY_ID)))
    def patch(self, changes, post_id):
        """Change my post"""
        return services.update_post(current_user, post_id, **changes)

    @token_required()
    @blp.doc(security=BEARER_AUTH)
    @blp.response(204)
    @blp.alt_response(403, schema=ErrorSchema, description="`not_author`, `email_undeliverable`")
    @blp.alt_response(404, schema=ErrorSchema, description="`post_not_found`")
    @blp.doc(**links(204, GetPost=link("get", POST, "Now 404 `post_not_found`", post_id="$request.path.post_id"),
                     ListLikes=link("get", f"{POST}/likes", "Now 404 `post_not_found`: its likes went with it",
                                    post_id="$request.path.post_id")))
    def delete(self, post_id):
        """Delete my post and its likes"""
        services.delete_post(current_user, post_id)


def like_links() -> dict:
    return {"GetPost": link("get", POST, "The post: `liked_by_me` is true", post_id=BY_POST_ID),
            "ListLikes": link("get", f"{POST}/likes", "Its likes, mine among them", post_id=BY_POST_ID),
            "UnlikePost": link("delete", f"{POST}/like", "Take the like back", post_id=BY_POST_ID)}


@blp.route("/<id:post_id>/like")
class PostLike(MethodView):
    decorators = [token_required()]

    @blp.doc(security=BEARER_AUTH)
    @blp.response(201, LikeStatusSchema, description="The like was created")
    @blp.alt_response(200, schema=LikeStatusSchema, description="Already liked: nothing changed")
    @blp.alt_response(403, schema=ErrorSchema, description="`cannot_like_own_post`, `email_undeliverable`")
    @blp.alt_response(404, schema=ErrorSchema, description="`post_not_found`")
    @blp.alt_response(429, schema=ErrorSchema, headers=RETRY_AFTER_HEADER,
                      description="`too_many_requests`: over `LIKES_PER_MINUTE` (with `Retry-After`)")
    @blp.doc(**links(201, **like_links()))
    @blp.doc(**links(200, **like_links()))
    def post(self, post_id):
        """Like a post (at most once)"""
        status, created = services.like_post(current_user_id(), post_id)
        return status, 201 if created else 200

    @blp.doc(security=BEARER_AUTH)
    @blp.response(200, LikeStatusSchema)
    @blp.alt_response(403, schema=ErrorSchema, description="`email_undeliverable`")
    @blp.alt_response(404, schema=ErrorSchema, description="`post_not_found`")
    @blp.doc(**links(200, GetPost=link("get", POST, "The post: `liked_by_me` is false, the post remains",
                                       post_id=BY_POST_ID),
                     ListLikes=link("get", f"{POST}/likes", "Its likes, mine no longer among them",
                                    post_id=BY_POST_ID),
                     LikePost=link("post", f"{POST}/like", "Like it again", post_id=BY_POST_ID)))
    def delete(self, post_id):
        """Unlike a post (whether or not I liked it): this removes my like, never the post or its list of likes"""
        return services.unlike_post(current_user_id(), post_id)


@blp.route("/<id:post_id>/likes")
class PostLikes(MethodView):
    @blp.arguments(PageArgsSchema, location="query")
    @blp.response(200, LikePageSchema)
    @blp.alt_response(404, schema=ErrorSchema, description="`post_not_found`")
    def get(self, args, post_id):
        """List a post's likes, newest first"""
        return services.list_likes(post_id, **args)
