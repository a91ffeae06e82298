"""Phone codes and invite activations under concurrent requests, on PostgreSQL and real Redis."""

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.users.models import User
from tests.factories import UserFactory, issue_code
from tests.accounts import headers_for
from tests.stack.test_concurrency import THREADS, request, run_together

pytestmark = pytest.mark.stack

PHONE = "+79991234567"


def test_concurrent_verifies_of_one_right_code_sign_in_exactly_once(pg_app):
    pg_app.config.update(SMS_BACKEND="outbox", PHONE_REQUESTS_PER_IP_PER_HOUR=1000)
    with pg_app.app_context():
        code = issue_code(PHONE, "198.51.100.1")
    results = run_together(pg_app, [request("POST", "/api/v1/auth/phone/verify",
                                            json={"phone": PHONE, "code": code})] * THREADS)
    statuses = sorted(status for status, _ in results)
    assert statuses == [200] + [400] * (THREADS - 1)
    assert {body["error"]["code"] for status, body in results if status == 400} == {"code_expired"}
    with pg_app.app_context():
        assert db.session.scalar(select(func.count()).select_from(User).where(User.phone == PHONE)) == 1


def test_concurrent_wrong_codes_burn_the_code_after_exactly_five(pg_app):
    pg_app.config.update(PHONE_REQUESTS_PER_IP_PER_HOUR=1000)
    with pg_app.app_context():
        code = issue_code(PHONE, "198.51.100.1")
    wrong = f"{(int(code) + 1) % 10_000:04d}"
    results = run_together(pg_app, [request("POST", "/api/v1/auth/phone/verify",
                                            json={"phone": PHONE, "code": wrong})] * THREADS)
    codes = [body["error"]["code"] for _, body in results]
    assert codes.count("invalid_code") == 4
    assert codes.count("too_many_attempts") == 1
    assert codes.count("code_expired") == THREADS - 5
    assert sorted(body["error"]["attempts_left"] for _, body in results
                  if body["error"]["code"] == "invalid_code") == [1, 2, 3, 4]


def test_concurrent_activations_by_one_user_leave_one_referral(pg_app):
    with pg_app.app_context():
        owners = UserFactory.create_batch(THREADS)
        me = UserFactory()
        codes = [owner.invite_code for owner in owners]
        headers = headers_for(pg_app, me.id)
        my_id = me.id
    results = run_together(pg_app, [request("POST", "/api/v1/users/me/invite", headers=headers,
                                            json={"invite_code": code}) for code in codes])
    statuses = sorted(status for status, _ in results)
    assert statuses == [200] + [409] * (THREADS - 1)
    with pg_app.app_context():
        me = db.session.get(User, my_id)
        assert me.referred_by_id is not None
        assert db.session.get(User, me.referred_by_id).invite_code == me.activated_invite_code
        assert db.session.scalar(select(func.count()).select_from(User).where(User.referred_by_id.is_not(None))) == 1


def test_two_users_activating_each_others_codes_at_once_never_form_a_cycle(pg_app):
    for _ in range(5):
        with pg_app.app_context():
            a, b = UserFactory(), UserFactory()
            calls = [request("POST", "/api/v1/users/me/invite", headers=headers_for(pg_app, a.id),
                             json={"invite_code": b.invite_code}),
                     request("POST", "/api/v1/users/me/invite", headers=headers_for(pg_app, b.id),
                             json={"invite_code": a.invite_code})]
            ids = (a.id, b.id)
        results = run_together(pg_app, calls)
        assert sorted(status for status, _ in results) == [200, 422]
        assert [body["error"]["code"] for status, body in results if status == 422] == ["referral_cycle"]
        with pg_app.app_context():
            referrers = {user.id: user.referred_by_id for user in db.session.scalars(select(User).where(User.id.in_(ids)))}
            assert sum(referrer is not None for referrer in referrers.values()) == 1


def test_a_cycle_of_four_cannot_close_under_concurrency(pg_app):
    with pg_app.app_context():
        users = UserFactory.create_batch(4)
        calls = [request("POST", "/api/v1/users/me/invite", headers=headers_for(pg_app, user.id),
                         json={"invite_code": users[(n + 1) % 4].invite_code}) for n, user in enumerate(users)]
    results = run_together(pg_app, calls)
    assert sorted(status for status, _ in results) == [200, 200, 200, 422]
