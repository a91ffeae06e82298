"""Invite codes and referrals (SPEC 5) through the API."""

from datetime import datetime, timedelta, timezone

import pytest

from tests.factories import UserFactory

INVITE = "/api/v1/users/me/invite"


def activate(client, headers, code):
    return client.post(INVITE, json={"invite_code": code}, headers=headers)


def test_activation_records_the_referral_on_both_profiles(client, sign_up):
    owner, owner_headers = sign_up(email="owner@example.com", name="Owner")
    me, headers = sign_up(email="me@example.com")
    response = activate(client, headers, owner["invite_code"])
    assert response.status_code == 200
    assert response.json["activated_invite_code"] == owner["invite_code"]
    assert response.json["referred_by"] == {"id": owner["id"], "name": "Owner"}
    owner_profile = client.get("/api/v1/users/me", headers=owner_headers).json
    assert owner_profile["referrals"] == ["me@example.com"]
    assert owner_profile["referral_count"] == 1


def test_codes_are_case_insensitive_and_trimmed(client, sign_up):
    owner, _ = sign_up()
    _, headers = sign_up()
    assert activate(client, headers, f"  {owner['invite_code'].lower()} ").status_code == 200


def test_an_unknown_code_is_404(client, sign_up):
    _, headers = sign_up()
    response = activate(client, headers, "ZZZZZZ")
    assert (response.status_code, response.json["error"]["code"]) == (404, "invite_code_not_found")


def test_my_own_code_is_422(client, sign_up):
    me, headers = sign_up()
    response = activate(client, headers, me["invite_code"])
    assert (response.status_code, response.json["error"]["code"]) == (422, "own_invite_code")


def test_a_code_is_activated_once_in_a_lifetime(client, sign_up):
    first, _ = sign_up()
    second, _ = sign_up()
    _, headers = sign_up()
    assert activate(client, headers, first["invite_code"]).status_code == 200
    again = activate(client, headers, second["invite_code"])
    assert (again.status_code, again.json["error"]["code"]) == (409, "invite_already_activated")
    assert client.get("/api/v1/users/me", headers=headers).json["activated_invite_code"] == first["invite_code"]


def test_a_direct_cycle_is_refused(client, sign_up):
    a, a_headers = sign_up()
    b, b_headers = sign_up()
    assert activate(client, b_headers, a["invite_code"]).status_code == 200  # a referred b
    response = activate(client, a_headers, b["invite_code"])
    assert (response.status_code, response.json["error"]["code"]) == (422, "referral_cycle")


def test_a_cycle_down_a_chain_is_refused(client, sign_up):
    a, a_headers = sign_up()
    b, b_headers = sign_up()
    c, c_headers = sign_up()
    activate(client, b_headers, a["invite_code"])  # a -> b
    activate(client, c_headers, b["invite_code"])  # b -> c
    response = activate(client, a_headers, c["invite_code"])
    assert (response.status_code, response.json["error"]["code"]) == (422, "referral_cycle")


def test_unrelated_chains_may_join(client, sign_up):
    a, _ = sign_up()
    b, b_headers = sign_up()
    c, c_headers = sign_up()
    activate(client, b_headers, a["invite_code"])
    assert activate(client, c_headers, b["invite_code"]).status_code == 200


@pytest.mark.parametrize("body", [{}, {"invite_code": ""}, {"invite_code": 123456}, {"invite_code": "x" * 33}])
def test_bad_bodies_are_422(client, sign_up, body):
    _, headers = sign_up()
    response = client.post(INVITE, json=body, headers=headers)
    assert (response.status_code, response.json["error"]["code"]) == (422, "validation_error")


def test_activation_needs_a_token(client):
    assert client.post(INVITE, json={"invite_code": "AB12CD"}).status_code == 401


def test_profile_referrals_are_phones_or_emails_newest_first_at_most_100(client, app, sign_up):
    owner, headers = sign_up()
    start = datetime(2026, 1, 1, tzinfo=timezone.utc)
    with app.app_context():
        # Odd ones have a phone; the newest (n=100) has only an email; the oldest (n=0) falls off.
        referred = [UserFactory(phone=f"+1415555{n:04d}" if n % 2 else None, referred_by_id=owner["id"],
                                referred_at=start + timedelta(minutes=n)) for n in range(101)]
        newest_email, oldest_email = referred[100].email, referred[0].email
    profile = client.get("/api/v1/users/me", headers=headers).json
    assert profile["referral_count"] == 101
    assert len(profile["referrals"]) == 100
    assert profile["referrals"][:2] == [newest_email, "+14155550099"]
    assert oldest_email not in profile["referrals"]


def test_the_referrals_list_pages_through_everyone(client, app, sign_up):
    owner, headers = sign_up()
    start = datetime(2026, 1, 1, tzinfo=timezone.utc)
    with app.app_context():
        made = [UserFactory(referred_by_id=owner["id"], referred_at=start + timedelta(seconds=n)).id for n in range(7)]
    seen, cursor = [], None
    while True:
        page = client.get("/api/v1/users/me/referrals", query_string={"limit": 3, **({"cursor": cursor} if cursor else {})},
                          headers=headers).json
        seen += [item["user"]["id"] for item in page["items"]]
        assert all(set(item) == {"user", "contact", "referred_at"} for item in page["items"])
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == made[::-1]
