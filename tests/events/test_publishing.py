"""Which writes publish which events, to whom (SPEC 12's table); never for a write that did not happen."""

import logging

import pytest
from prometheus_client import REGISTRY
from redis.exceptions import ConnectionError as RedisConnectionError

from app.events import models as events
from app.extensions import db, redis_store
from tests.accounts import PASSWORD, bearer, sign_up_on
from tests.events.conftest import kept_events
from tests.fakes import HUNTER_VERIFY, Answer, hunter_verification
from tests.conftest import provider_config
from tests.mail.outbox import mailed_code


@pytest.fixture
def app(live_app):
    return live_app()


def names(app, user_id):
    return [name for _, name, _ in kept_events(app, user_id)]


def post_by(client, headers, body="hello"):
    answer = client.post("/api/v1/posts", json={"body": body}, headers=headers)
    assert answer.status_code == 201, answer.json
    return answer.json["id"]


def test_a_like_and_an_unlike_reach_the_posts_author_alone(app, client, sign_up):
    author, author_headers = sign_up(name="Ada")
    fan, fan_headers = sign_up(name="Grace")
    post_id = post_by(client, author_headers)
    assert client.post(f"/api/v1/posts/{post_id}/like", headers=fan_headers).status_code == 201
    assert client.post(f"/api/v1/posts/{post_id}/like", headers=fan_headers).status_code == 200  # no second event
    assert client.delete(f"/api/v1/posts/{post_id}/like", headers=fan_headers).status_code == 200
    assert client.delete(f"/api/v1/posts/{post_id}/like", headers=fan_headers).status_code == 200  # nothing to undo
    kept = kept_events(app, author["id"])
    assert [(name, data) for _, name, data in kept] == [
        ("like.created", {"post_id": post_id, "user": {"id": fan["id"], "name": "Grace"}, "like_count": 1}),
        ("like.deleted", {"post_id": post_id, "user_id": fan["id"], "like_count": 0}),
    ]
    assert names(app, fan["id"]) == []


def test_a_refused_like_publishes_nothing(app, client, sign_up):
    author, author_headers = sign_up()
    post_id = post_by(client, author_headers)
    assert client.post(f"/api/v1/posts/{post_id}/like", headers=author_headers).status_code == 403
    assert names(app, author["id"]) == []


def test_an_activated_invite_code_tells_its_owner(app, client, sign_up):
    owner, _ = sign_up(name="Owner")
    invited, invited_headers = sign_up(email="invited@example.com", name="Newcomer")
    answer = client.post("/api/v1/users/me/invite", json={"invite_code": owner["invite_code"]}, headers=invited_headers)
    assert answer.status_code == 200, answer.json
    [(_, name, data)] = kept_events(app, owner["id"])
    assert name == "referral.created"
    listed = client.get("/api/v1/users/me/referrals", headers=client_headers(app, owner["id"])).json["items"][0]
    assert data == {"referral": listed, "referral_count": 1}
    assert names(app, invited["id"]) == []


def client_headers(app, user_id):
    from app.auth.tokens import issue_tokens

    with app.app_context():
        return bearer(issue_tokens(user_id)["access_token"])


def test_a_check_result_reaches_its_user(make_app, providers):
    providers.script(HUNTER_VERIFY, Answer(200, hunter_verification("alex@example.com", "valid", "deliverable", 95)))
    app = make_app(**provider_config(providers, MAIL_BACKEND="outbox", ENRICHMENT_PROVIDER=None,
                                     CLEARBIT_API_KEY=None))
    client = app.test_client()
    signed = client.post("/api/v1/auth/signup", json={"email": "alex@example.com", "password": PASSWORD}).json
    headers = bearer(signed["access_token"])
    assert client.post("/api/v1/auth/email/confirm", json={"code": mailed_code(client, "alex@example.com")},
                       headers=headers).status_code == 200
    user_id = signed["user"]["id"]
    app.extensions["tasks"].shutdown(wait=True)  # the inline runner has finished the checks
    updates = [data for _, name, data in kept_events(app, user_id) if name == "profile.updated"]
    assert updates and updates[-1]["email_status"] == "valid"
    profile = client.get("/api/v1/users/me", headers=headers).json
    # As recorded by the check; enrichment may have moved since (the confirmation ends its wait for the address).
    assert updates[-1]["email_status"] == profile["email_status"] == "valid"
    assert updates[-1]["enrichment_status"] in ("unconfirmed", profile["enrichment_status"])


def test_nothing_is_published_for_a_write_that_rolled_back(app, client, sign_up):
    author, _ = sign_up()
    with app.app_context():
        events.publish_after_commit(events.profile_updated(author["id"], "valid", "found"))
        db.session.rollback()
        db.session.commit()  # a later commit of the same session publishes nothing either
    assert names(app, author["id"]) == []


def test_events_published_before_commit_go_out_at_the_commit(app, client, sign_up):
    author, _ = sign_up()
    with app.app_context():
        events.publish_after_commit(events.profile_updated(author["id"], "valid", "found"))
        assert names(app, author["id"]) == []
        db.session.commit()
    assert names(app, author["id"]) == ["profile.updated"]


def test_a_failed_publish_never_fails_the_write_and_is_logged_and_counted(live_app, caplog, monkeypatch):
    app = live_app(RATELIMIT_ENABLED=False)  # the limits' own pipeline stays out of the way
    client = app.test_client()
    _, author_headers = sign_up_on(client)
    _, fan_headers = sign_up_on(client)
    post_id = post_by(client, author_headers)

    def unreachable(*args, **kwargs):
        raise RedisConnectionError("Redis went away")

    with app.app_context():
        pipeline_class = type(redis_store.client.pipeline())
    monkeypatch.setattr(pipeline_class, "execute", unreachable)
    before = REGISTRY.get_sample_value("agora_events_publish_failed_total") or 0
    with caplog.at_level(logging.ERROR, logger="app.events.models"):
        answer = client.post(f"/api/v1/posts/{post_id}/like", headers=fan_headers)
    assert answer.status_code == 201 and answer.json["like_count"] == 1
    assert "live events not published (like.created)" in caplog.text
    assert REGISTRY.get_sample_value("agora_events_publish_failed_total") == before + 1
