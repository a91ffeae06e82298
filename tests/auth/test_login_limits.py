"""Failed-login limits: per account and address, per account, per address; only failures count."""

import pytest

from app.core.limits import Window, reserve
from tests.accounts import PASSWORD, sign_up_on

OTHER = {"REMOTE_ADDR": "192.0.2.50"}


def login(client, email, password, environ=None):
    return client.post("/api/v1/auth/login", json={"email": email, "password": password}, environ_base=environ or {})


@pytest.fixture
def limited(make_app):
    """An app with small limits: 3 per account and address, 5 per account, 6 per address."""
    return make_app(LOGIN_FAILURES_PER_ACCOUNT_AND_ADDRESS=3, LOGIN_FAILURES_PER_ACCOUNT=5,
                    LOGIN_FAILURES_PER_ADDRESS=6).test_client()


def test_failures_past_the_account_and_address_limit_are_429_even_with_the_right_password(limited):
    sign_up_on(limited, "ann@example.com", PASSWORD)
    failures = [login(limited, "ann@example.com", "not the password") for _ in range(3)]
    right = login(limited, "ann@example.com", PASSWORD)
    assert [answer.status_code for answer in failures] == [401, 401, 401]
    assert right.status_code == 429
    assert right.json["error"]["code"] == "too_many_failed_logins"
    assert 0 < int(right.headers["Retry-After"]) <= 900
    assert right.json["error"]["retry_after"] == int(right.headers["Retry-After"])


def test_the_default_limit_stops_the_eleventh_wrong_password(client, sign_up):
    sign_up("ann@example.com")
    answers = [login(client, "ann@example.com", "not the password").status_code for _ in range(11)]
    assert answers == [401] * 10 + [429]
    assert login(client, "ann@example.com", PASSWORD).status_code == 429


def test_successes_do_not_count(limited):
    sign_up_on(limited, "ann@example.com", PASSWORD)
    answers = [login(limited, "ann@example.com", PASSWORD).status_code for _ in range(8)]
    assert answers == [200] * 8


def test_a_throttled_account_does_not_lock_other_accounts_at_the_same_address(limited):
    sign_up_on(limited, "ann@example.com", PASSWORD)
    sign_up_on(limited, "bob@example.com", PASSWORD)
    for _ in range(3):
        login(limited, "ann@example.com", "not the password")
    assert login(limited, "ann@example.com", PASSWORD).status_code == 429
    assert login(limited, "bob@example.com", PASSWORD).status_code == 200


def test_the_account_limit_holds_across_addresses(limited):
    sign_up_on(limited, "ann@example.com", PASSWORD)
    addresses = [f"198.51.100.{n}" for n in range(1, 6)]
    for address in addresses:
        assert login(limited, "ann@example.com", "wrong", {"REMOTE_ADDR": address}).status_code == 401
    answer = login(limited, "ann@example.com", PASSWORD, {"REMOTE_ADDR": "198.51.100.99"})
    assert (answer.status_code, answer.json["error"]["code"]) == (429, "too_many_failed_logins")


def test_the_address_limit_holds_across_accounts(limited):
    answers = [login(limited, f"user{n}@example.com", "wrong").status_code for n in range(7)]
    assert answers == [401] * 6 + [429]
    assert login(limited, "someone@example.com", "wrong", OTHER).status_code == 401


def test_unknown_emails_are_throttled_like_known_ones(limited):
    sign_up_on(limited, "ann@example.com", PASSWORD)
    known = [login(limited, "ann@example.com", "wrong").status_code for _ in range(4)]
    unknown = [login(limited, "nobody@example.com", "wrong", OTHER).status_code for _ in range(4)]
    assert known == unknown == [401, 401, 401, 429]


def test_the_account_is_the_email_in_any_case(limited):
    sign_up_on(limited, "ann@example.com", PASSWORD)
    for email in ("ann@example.com", "ANN@example.com", "Ann@EXAMPLE.com"):
        login(limited, email, "wrong")
    assert login(limited, "ann@example.com", PASSWORD).status_code == 429


def test_ratelimit_disabled_turns_the_login_limits_off(make_app):
    client = make_app(RATELIMIT_ENABLED=False, LOGIN_FAILURES_PER_ACCOUNT_AND_ADDRESS=1).test_client()
    sign_up_on(client, "ann@example.com", PASSWORD)
    assert [login(client, "ann@example.com", "wrong").status_code for _ in range(3)] == [401] * 3
    assert login(client, "ann@example.com", PASSWORD).status_code == 200


def test_redis_keeps_no_email_or_address_in_the_clear(app, client, sign_up):
    sign_up("ann@example.com")
    login(client, "ann@example.com", "wrong")
    with app.app_context():
        keys = list(app.extensions["redis"].scan_iter("*login*"))
    assert keys and not any("ann" in key for key in keys)


def test_a_reservation_is_all_or_nothing(ctx):
    full, roomy = Window("agora:test:full", 1, 60), Window("agora:test:roomy", 5, 60)
    assert reserve([full])[0] is not None
    hit, wait = reserve([roomy, full])
    assert hit is None and 0 < wait <= 60
    from app.extensions import redis_store
    assert redis_store.client.zcard("agora:test:roomy") == 0


def test_a_released_reservation_frees_its_place(ctx):
    window = Window("agora:test:released", 1, 60)
    hit, _ = reserve([window])
    hit.release()
    assert reserve([window])[0] is not None
