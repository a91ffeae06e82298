"""Posts and likes."""

from flask.views import MethodView

from app.core.api import Blueprint
from app.core.openapi import link, links
from app.auth.tokens import ACCESS_TOKEN, OPTIONAL_ACCESS_TOKEN, current_user, current_user_id
from app.core.errors import CannotLikeOwnPost, EmailUndeliverable, NotAuthor, PostNotFound, TooManyRequests
from app.posts import services
from app.posts.schemas import (LikePageSchema, LikeStatusSchema, PostCreateSchema, PostListArgsSchema,
                               PostPageSchema, PostSchema, PostUpdateSchema)
from app.core.schemas import PageArgsSchema

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
    @blp.operation(auth=OPTIONAL_ACCESS_TOKEN)
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

    @blp.operation(auth=ACCESS_TOKEN, errors=[EmailUndeliverable, TooManyRequests.when("over `POSTS_PER_MINUTE`")])
    @blp.arguments(PostCreateSchema)
    @blp.response(201, PostSchema)
    @blp.doc(**links(201, **post_links(BY_ID),
                     GetAuthor=link("get", "/api/v1/users/{user_id}", "The author's public profile",
                                    user_id="$response.body#/author/id")))
    def post(self, data):
        """Write a post"""
        return services.create_post(current_user_id(), **data)


@blp.route("/<id:post_id>")
class PostItem(MethodView):
    @blp.operation(auth=OPTIONAL_ACCESS_TOKEN, errors=[PostNotFound])
    @blp.response(200, PostSchema)
    @blp.doc(**links(200, **post_links(BY_ID)))
    def get(self, post_id):
        """Show a post"""
        return services.get_post(post_id, viewer_id=current_user_id())

    @blp.operation(auth=ACCESS_TOKEN, errors=[NotAuthor, EmailUndeliverable, PostNotFound])
    @blp.arguments(PostUpdateSchema)
    @blp.response(200, PostSchema)
    @blp.doc(**links(200, GetPost=link("get", POST, "The changed post", post_id=BY_ID)))
    def patch(self, changes, post_id):
        """Change my post"""
        return services.update_post(current_user, post_id, **changes)

    @blp.operation(auth=ACCESS_TOKEN, errors=[NotAuthor, EmailUndeliverable, PostNotFound])
    @blp.response(204)
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
    @blp.operation(auth=ACCESS_TOKEN, errors=[CannotLikeOwnPost, EmailUndeliverable, PostNotFound,
                                              TooManyRequests.when("over `LIKES_PER_MINUTE`")])
    @blp.response(201, LikeStatusSchema, description="The like was created")
    @blp.alt_response(200, schema=LikeStatusSchema, description="Already liked: nothing changed")
    @blp.doc(**links(201, **like_links()))
    @blp.doc(**links(200, **like_links()))
    def post(self, post_id):
        """Like a post (at most once)"""
        status, created = services.like_post(current_user_id(), post_id)
        return status, 201 if created else 200

    @blp.operation(auth=ACCESS_TOKEN, errors=[EmailUndeliverable, PostNotFound])
    @blp.response(200, LikeStatusSchema)
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
    @blp.operation(errors=[PostNotFound])
    @blp.arguments(PageArgsSchema, location="query")
    @blp.response(200, LikePageSchema)
    def get(self, args, post_id):
        """List a post's likes, newest first"""
        return services.list_likes(post_id, **args)
