"""Posts and likes through the API."""

from datetime import datetime, timezone

import pytest
from sqlalchemy import event, func, select

from app.extensions import db
from app.posts.models import Like, Post
from app.users.models import User
from tests.factories import PostFactory, UserFactory

POST_FIELDS = {"id", "author", "title", "body", "like_count", "liked_by_me", "created_at", "updated_at"}


@pytest.fixture
def author(sign_up):
    return sign_up(name="Author")


@pytest.fixture
def reader(sign_up):
    return sign_up(name="Reader")


@pytest.fixture
def post(client, author):
    _, headers = author
    return client.post("/api/v1/posts", json={"title": "Hello", "body": "First post"}, headers=headers).json


def test_create_post_returns_the_post(client, author):
    user, headers = author
    response = client.post("/api/v1/posts", json={"title": " Hello ", "body": "First post"}, headers=headers)
    assert response.status_code == 201
    assert set(response.json) == POST_FIELDS
    assert response.json["author"] == {"id": user["id"], "name": "Author"}
    assert response.json["title"] == "Hello"
    assert (response.json["like_count"], response.json["liked_by_me"]) == (0, False)


def test_title_is_optional(client, author):
    _, headers = author
    assert client.post("/api/v1/posts", json={"body": "untitled"}, headers=headers).json["title"] is None


@pytest.mark.parametrize("body", [{}, {"body": ""}, {"body": "   "}, {"body": "x" * 10_001}, {"title": "t" * 201, "body": "b"}])
def test_create_post_rejects_bad_bodies(client, author, body):
    _, headers = author
    response = client.post("/api/v1/posts", json=body, headers=headers)
    assert response.status_code == 422
    assert response.json["error"]["code"] == "validation_error"


def test_writing_needs_a_token(client):
    response = client.post("/api/v1/posts", json={"body": "hi"})
    assert response.status_code == 401
    assert response.json["error"]["code"] == "authorization_required"


def test_reading_is_open_to_everyone(client, post):
    response = client.get(f"/api/v1/posts/{post['id']}")
    assert response.status_code == 200
    assert response.json["liked_by_me"] is False


def test_list_is_newest_first(client, author):
    _, headers = author
    ids = [client.post("/api/v1/posts", json={"body": f"post {n}"}, headers=headers).json["id"] for n in range(3)]
    listed = client.get("/api/v1/posts").json
    assert [item["id"] for item in listed["items"]] == ids[::-1]
    assert listed["next_cursor"] is None


def test_list_filters_by_author(client, author, reader):
    for user_headers in (author[1], reader[1]):
        client.post("/api/v1/posts", json={"body": "mine"}, headers=user_headers)
    listed = client.get(f"/api/v1/posts?author_id={reader[0]['id']}").json["items"]
    assert [item["author"]["id"] for item in listed] == [reader[0]["id"]]


def test_pages_walk_every_post_once_even_with_equal_timestamps(client, app):
    moment = datetime(2026, 1, 1, tzinfo=timezone.utc)
    with app.app_context():
        writer = UserFactory()
        made = [PostFactory(author=writer, created_at=moment).id for _ in range(7)]
        made += [PostFactory(author=writer).id for _ in range(5)]
    seen, cursor = [], None
    while True:
        page = client.get("/api/v1/posts", query_string={"limit": 5, **({"cursor": cursor} if cursor else {})}).json
        seen += [item["id"] for item in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert sorted(seen) == sorted(made)
    assert len(seen) == len(set(seen))
    assert seen[-7:] == sorted(made[:7], reverse=True)


def test_liked_by_me_is_per_viewer(client, post, reader, sign_up):
    _, reader_headers = reader
    _, other_headers = sign_up()
    client.post(f"/api/v1/posts/{post['id']}/like", headers=reader_headers)
    assert client.get("/api/v1/posts", headers=reader_headers).json["items"][0]["liked_by_me"] is True
    assert client.get("/api/v1/posts", headers=other_headers).json["items"][0]["liked_by_me"] is False
    assert client.get(f"/api/v1/posts/{post['id']}", headers=reader_headers).json["liked_by_me"] is True


def test_listing_posts_costs_the_same_queries_for_any_page_size(app, client, auth_headers):
    with app.app_context():
        viewer = UserFactory()
        PostFactory.create_batch(30)
        headers = auth_headers(viewer.id)

    def statements_for(limit):
        counted = []
        with app.app_context():
            engine = db.engine
        listener = lambda *args: counted.append(1)  # noqa: E731
        event.listen(engine, "before_cursor_execute", listener)
        try:
            assert len(client.get(f"/api/v1/posts?limit={limit}", headers=headers).json["items"]) == limit
        finally:
            event.remove(engine, "before_cursor_execute", listener)
        return len(counted)

    assert statements_for(2) == statements_for(30)


def test_author_can_edit_the_post(client, post, author):
    _, headers = author
    response = client.patch(f"/api/v1/posts/{post['id']}", json={"body": "Edited"}, headers=headers)
    assert response.status_code == 200
    assert response.json["body"] == "Edited"
    assert response.json["title"] == "Hello"
    assert response.json["updated_at"] >= post["updated_at"]


def test_others_cannot_edit_or_delete_the_post(client, post, reader):
    _, headers = reader
    for response in (client.patch(f"/api/v1/posts/{post['id']}", json={"body": "mine now"}, headers=headers),
                     client.delete(f"/api/v1/posts/{post['id']}", headers=headers)):
        assert response.status_code == 403
        assert response.json["error"]["code"] == "not_author"
    assert client.get(f"/api/v1/posts/{post['id']}").json["body"] == "First post"


def test_patch_with_nothing_to_change_is_422(client, post, author):
    response = client.patch(f"/api/v1/posts/{post['id']}", json={}, headers=author[1])
    assert response.status_code == 422


def test_deleting_a_post_removes_it_and_its_likes(client, app, post, author, reader):
    client.post(f"/api/v1/posts/{post['id']}/like", headers=reader[1])
    assert client.delete(f"/api/v1/posts/{post['id']}", headers=author[1]).status_code == 204
    assert client.get(f"/api/v1/posts/{post['id']}").json["error"]["code"] == "post_not_found"
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Like)) == 0


def test_like_is_201_when_new_and_200_when_repeated(client, post, reader):
    _, headers = reader
    first = client.post(f"/api/v1/posts/{post['id']}/like", headers=headers)
    again = client.post(f"/api/v1/posts/{post['id']}/like", headers=headers)
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json == again.json == {"post_id": post["id"], "liked": True, "like_count": 1}


def test_likes_do_not_count_as_edits(client, post, reader):
    client.post(f"/api/v1/posts/{post['id']}/like", headers=reader[1])
    client.delete(f"/api/v1/posts/{post['id']}/like", headers=reader[1])
    assert client.get(f"/api/v1/posts/{post['id']}").json["updated_at"] == post["updated_at"]


def test_liking_my_own_post_is_403(client, post, author):
    response = client.post(f"/api/v1/posts/{post['id']}/like", headers=author[1])
    assert response.status_code == 403
    assert response.json["error"]["code"] == "cannot_like_own_post"


def test_unlike_is_200_whether_or_not_liked(client, post, reader):
    _, headers = reader
    client.post(f"/api/v1/posts/{post['id']}/like", headers=headers)
    for _ in range(2):
        response = client.delete(f"/api/v1/posts/{post['id']}/like", headers=headers)
        assert response.status_code == 200
        assert response.json == {"post_id": post["id"], "liked": False, "like_count": 0}


def test_like_count_matches_the_likes(client, app, post, sign_up):
    likers = [sign_up()[1] for _ in range(4)]
    for headers in likers:
        client.post(f"/api/v1/posts/{post['id']}/like", headers=headers)
    client.delete(f"/api/v1/posts/{post['id']}/like", headers=likers[0])
    assert client.get(f"/api/v1/posts/{post['id']}").json["like_count"] == 3
    with app.app_context():
        assert db.session.scalar(select(Post.like_count)) == db.session.scalar(select(func.count()).select_from(Like))


@pytest.mark.parametrize("method, suffix", [("post", "/like"), ("delete", "/like"), ("get", "/likes"), ("get", ""),
                                            ("patch", ""), ("delete", "")])
def test_unknown_post_is_404_post_not_found(client, reader, method, suffix):
    kwargs = {"headers": reader[1]}
    if method == "patch":
        kwargs["json"] = {"body": "x"}
    response = getattr(client, method)(f"/api/v1/posts/424242{suffix}", **kwargs)
    assert response.status_code == 404
    assert response.json["error"]["code"] == "post_not_found"


def test_likes_list_newest_first_with_microsecond_timestamps(client, post, sign_up):
    names = ["First", "Second", "Third"]
    for name in names:
        client.post(f"/api/v1/posts/{post['id']}/like", headers=sign_up(name=name)[1])
    response = client.get(f"/api/v1/posts/{post['id']}/likes?limit=2")
    assert response.status_code == 200
    page = response.json
    assert [item["user"]["name"] for item in page["items"]] == ["Third", "Second"]
    assert all(datetime.fromisoformat(item["created_at"]).tzinfo is not None for item in page["items"])
    assert all("." in item["created_at"] for item in page["items"])
    rest = client.get(f"/api/v1/posts/{post['id']}/likes", query_string={"cursor": page["next_cursor"]}).json
    assert [item["user"]["name"] for item in rest["items"]] == ["First"]
    assert rest["next_cursor"] is None


def test_deleting_a_user_removes_their_posts_and_likes(app, client):
    with app.app_context():
        post = PostFactory()
        liker = UserFactory()
        db.session.add(Like(user_id=liker.id, post_id=post.id))
        db.session.commit()
        db.session.delete(db.session.get(User, post.author_id))
        db.session.commit()
        assert db.session.scalar(select(func.count()).select_from(Like)) == 0
        assert db.session.scalar(select(func.count()).select_from(Post)) == 0
