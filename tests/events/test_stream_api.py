"""``GET /api/v1/events`` and its ticket (SPEC 12) on the embedded default: credentials, cap, resume, endings."""

from datetime import timedelta

import pytest
from flask_jwt_extended import create_access_token, decode_token
from redis.exceptions import ConnectionError as RedisConnectionError

from app.auth.models import session_generation
from app.auth.tokens import issue_tokens
from app.events import models as events
from app.extensions import redis_store
from tests.accounts import PASSWORD, bearer, sign_up_on
from tests.events.conftest import EVENTS, kept_events


@pytest.fixture
def app(live_app):
    return live_app()


def publish(app, *published):
    with app.app_context():
        assert events.publish(list(published))


def ticket(client, headers) -> str:
    answer = client.post(f"{EVENTS}/ticket", headers=headers)
    assert answer.status_code == 201, answer.json
    assert answer.json["expires_in"] == 30
    return answer.json["ticket"]


def test_a_bearer_token_opens_my_stream_and_my_events_arrive(app, client, sign_up, open_stream):
    me, headers = sign_up()
    other, _ = sign_up()
    stream = open_stream(client, headers)
    publish(app, events.profile_updated(other["id"], "valid", "found"), events.profile_updated(me["id"], "valid", "found"))
    event = stream.next_event()
    assert (event["event"], event["data"]) == ("profile.updated", {"email_status": "valid", "enrichment_status": "found"})
    assert event["id"] == kept_events(app, me["id"])[0][0]


def test_a_ticket_opens_the_stream_once(app, client, sign_up, open_stream):
    me, headers = sign_up()
    once = ticket(client, headers)
    stream = open_stream(client, query=f"?ticket={once}")
    publish(app, events.profile_updated(me["id"], "valid", "found"))
    assert stream.next_event()["event"] == "profile.updated"
    again = client.get(f"{EVENTS}?ticket={once}")
    assert (again.status_code, again.json["error"]["code"]) == (401, "invalid_ticket")


def test_a_ticket_is_kept_only_as_a_hash_and_expires(app, client, sign_up):
    _, headers = sign_up()
    issued = ticket(client, headers)
    with app.app_context():
        keys = redis_store.client.keys(redis_store.key("events", "ticket", "*"))
        assert len(keys) == 1 and issued not in keys[0]
        assert 0 < redis_store.client.ttl(keys[0]) <= 30
        redis_store.client.delete(keys[0])  # as if its 30 s had passed
    late = client.get(f"{EVENTS}?ticket={issued}")
    assert (late.status_code, late.json["error"]["code"]) == (401, "invalid_ticket")


@pytest.mark.parametrize("query", ["?access_token={token}", "?token={token}", "?ticket={token}"])
def test_an_access_token_is_never_accepted_in_the_url(client, sign_up, query):
    _, headers = sign_up()
    token = headers["Authorization"].split()[1]
    answer = client.get(EVENTS + query.format(token=token))
    assert answer.status_code == 401
    assert answer.json["error"]["code"] in ("authorization_required", "invalid_ticket")


def test_without_credentials_or_with_a_refresh_token_it_is_refused_in_json(client):
    answer = client.get(EVENTS)
    assert (answer.status_code, answer.json["error"]["code"]) == (401, "authorization_required")
    signed = client.post("/api/v1/auth/signup", json={"email": "r@example.com", "password": PASSWORD}).json
    refresh = client.get(EVENTS, headers=bearer(signed["refresh_token"]))
    assert refresh.status_code == 422 or refresh.json["error"]["code"] in ("invalid_token", "wrong_token_type")


def test_a_ticket_from_a_session_since_ended_opens_nothing(client, sign_up):
    _, headers = sign_up()
    issued = ticket(client, headers)
    assert client.post("/api/v1/auth/logout", json={}, headers=headers).status_code == 204
    answer = client.get(f"{EVENTS}?ticket={issued}")
    assert (answer.status_code, answer.json["error"]["code"]) == (401, "invalid_ticket")


def test_more_streams_than_the_cap_are_429_and_a_closed_one_frees_its_place(live_app, open_stream):
    app = live_app(EVENTS_MAX_STREAMS_PER_USER=2)
    client = app.test_client()
    _, headers = sign_up_on(client)
    first = open_stream(client, headers)
    open_stream(client, headers)
    refused = client.get(EVENTS, headers=headers)
    assert (refused.status_code, refused.json["error"]["code"]) == (429, "too_many_streams")
    first.close()
    open_stream(client, headers)


def test_a_stream_closed_before_its_first_event_frees_its_place(live_app):
    app = live_app(EVENTS_MAX_STREAMS_PER_USER=1)
    client = app.test_client()
    _, headers = sign_up_on(client)
    for _ in range(3):
        answer = client.get(EVENTS, headers=headers, buffered=False)
        assert answer.status_code == 200, answer.get_json()
        answer.close()


def test_resuming_sends_what_was_missed_in_order_then_live_ones_nothing_twice(app, client, sign_up, open_stream):
    me, headers = sign_up()
    publish(app, *(events.profile_updated(me["id"], "pending", str(n)) for n in range(4)))
    kept = kept_events(app, me["id"])
    stream = open_stream(client, headers, last_event_id=kept[1][0])
    publish(app, events.profile_updated(me["id"], "pending", "live"))
    received = stream.events(3)
    assert [event["data"]["enrichment_status"] for event in received] == ["2", "3", "live"]
    assert [event["id"] for event in received] == [entry_id for entry_id, _, _ in kept_events(app, me["id"])[2:]]


def test_the_last_event_id_may_come_beside_a_ticket(app, client, sign_up, open_stream):
    me, headers = sign_up()
    publish(app, *(events.profile_updated(me["id"], "pending", str(n)) for n in range(2)))
    first_id = kept_events(app, me["id"])[0][0]
    stream = open_stream(client, query=f"?ticket={ticket(client, headers)}&last_event_id={first_id}")
    assert stream.next_event()["data"]["enrichment_status"] == "1"


def test_an_id_older_than_what_is_kept_gets_resync_first(live_app, open_stream):
    app = live_app(EVENTS_RETENTION=5)
    client = app.test_client()
    me, headers = sign_up_on(client)
    publish(app, events.profile_updated(me["id"], "pending", "first"))
    first_id = kept_events(app, me["id"])[0][0]
    publish(app, *(events.profile_updated(me["id"], "pending", str(n)) for n in range(300)))
    assert kept_events(app, me["id"])[0][0] != first_id  # trimmed
    stream = open_stream(client, headers, last_event_id=first_id)
    resync = stream.next_event()
    assert resync["event"] == "resync" and resync["id"] == kept_events(app, me["id"])[-1][0]
    publish(app, events.profile_updated(me["id"], "pending", "after"))
    assert stream.next_event()["data"]["enrichment_status"] == "after"


@pytest.mark.parametrize("last_id", ["garbage", "99999999999999-0", "1-0"])
def test_an_id_this_stream_never_had_gets_resync(app, client, sign_up, open_stream, last_id):
    me, headers = sign_up()
    publish(app, events.profile_updated(me["id"], "pending", "kept"))
    stream = open_stream(client, headers, last_event_id=last_id)
    assert stream.next_event()["event"] == "resync"


def test_keep_alive_comments_arrive_every_heartbeat(client, sign_up, open_stream):
    _, headers = sign_up()
    stream = open_stream(client, headers)
    with pytest.raises(AssertionError, match="no event"):
        stream.next_event(timeout=2.5)
    assert stream.keep_alives >= 2


def test_logout_ends_an_open_stream_with_session_revoked(client, sign_up, open_stream):
    _, headers = sign_up()
    stream = open_stream(client, headers)
    assert client.post("/api/v1/auth/logout", json={}, headers=headers).status_code == 204
    assert stream.next_event(timeout=2)["event"] == "session.revoked"
    assert stream.next_event() is None


def test_a_password_change_ends_the_streams_of_older_sessions(client, sign_up, open_stream):
    _, headers = sign_up()
    stream = open_stream(client, headers)
    changed = client.patch("/api/v1/users/me", json={"password": "another horse battery",
                                                     "current_password": PASSWORD}, headers=headers)
    assert changed.status_code == 200, changed.json
    assert stream.next_event(timeout=2)["event"] == "session.revoked"


def test_the_stream_asks_for_reauth_when_its_token_expires(app, client, sign_up, open_stream):
    me, _ = sign_up()
    with app.app_context():
        token = create_access_token(str(me["id"]), expires_delta=timedelta(seconds=2),
                                    additional_claims={"gen": session_generation(me["id"]), "sid": "short"})
    stream = open_stream(client, bearer(token))
    assert stream.next_event(timeout=4)["event"] == "reauth"
    assert stream.next_event() is None


def test_a_process_that_does_not_serve_streams_says_where_they_are(live_app):
    app = live_app(EVENTS_SERVED_HERE=False)
    client = app.test_client()
    _, headers = sign_up_on(client)
    answer = client.get(EVENTS, headers=headers)
    assert (answer.status_code, answer.json["error"]["code"]) == (503, "service_unavailable")
    assert client.post(f"{EVENTS}/ticket", headers=headers).status_code == 201  # tickets come from the API


def test_a_token_revoked_without_a_nudge_is_found_at_the_next_heartbeat(app, client, sign_up, open_stream):
    me, headers = sign_up()
    stream = open_stream(client, headers)
    token = headers["Authorization"].split()[1]
    with app.app_context():  # revoked behind the API's back: no nudge, only the hub's beat can find it
        claims = decode_token(token)
        redis_store.client.set(redis_store.key("jwt", "revoked", claims["jti"]), "1", ex=60)
    assert stream.next_event(timeout=3)["event"] == "session.revoked"


def test_a_beat_that_cannot_reach_redis_leaves_streams_open(app, client, sign_up, open_stream, monkeypatch):
    me, headers = sign_up()
    stream = open_stream(client, headers)
    with app.app_context():
        pipeline_class = type(redis_store.client.pipeline())
    real_execute = pipeline_class.execute

    def unreachable(self, *args, **kwargs):
        raise RedisConnectionError("Redis went away")

    monkeypatch.setattr(pipeline_class, "execute", unreachable)
    with pytest.raises(AssertionError, match="no event"):
        stream.next_event(timeout=2.5)  # two beats fail: keep-alives only, the stream stays
    monkeypatch.setattr(pipeline_class, "execute", real_execute)
    publish(app, events.profile_updated(me["id"], "valid", "found"))
    assert stream.next_event()["event"] == "profile.updated"


def test_the_event_that_ends_a_stream_carries_the_id_to_resume_from(app, client, sign_up, open_stream):
    """Even a stream opened without Last-Event-ID: what happens between its end and the reconnection is not lost."""
    me, _ = sign_up()
    publish(app, events.profile_updated(me["id"], "pending", "before"))
    with app.app_context():
        token = create_access_token(str(me["id"]), expires_delta=timedelta(seconds=1),
                                    additional_claims={"gen": session_generation(me["id"]), "sid": "short"})
    reauth = open_stream(client, bearer(token)).next_event(timeout=3)
    assert reauth["event"] == "reauth" and reauth["id"] == kept_events(app, me["id"])[-1][0]
    publish(app, events.profile_updated(me["id"], "pending", "meanwhile"))
    headers = bearer(client_token(app, me["id"]))
    resumed = open_stream(client, headers, last_event_id=reauth["id"]).next_event()
    assert resumed["data"]["enrichment_status"] == "meanwhile"


def client_token(app, user_id: int) -> str:
    with app.app_context():
        return issue_tokens(user_id)["access_token"]
