"""The live pages (SPEC 9, 12) in a real browser: what one person does shows on another's page without a reload.

Each test waits for the pages' streams to be open (``body[data-live=open]``) before acting: events written before
a stream opens reach a page only through its first REST read, which is what the other tests check.
"""

import json
import re

from sqlalchemy import update

from app.events import models as events
from app.extensions import db, redis_store
from app.users.models import User

from tests.accounts import bearer
from tests.ui.conftest import expiring_access_token, hold_session
from tests.ui.test_pages import expect, post_card, sign_in_by_email


def wait_live(page) -> None:
    expect(page.locator("body")).to_have_attribute("data-live", "open")


def open_signed_in(person, user: dict, path: str):
    page = person()
    sign_in_by_email(page, user["email"], path)
    wait_live(page)
    return page


def send(page, text: str) -> None:
    page.get_by_role("textbox", name="Message").fill(text)
    page.get_by_role("button", name="Send").click()


def conversation_entry(page, title: str):
    return page.locator("#conversations > li", has_text=title)


def test_a_message_typed_in_one_page_appears_in_the_other_with_the_tenth_congratulated(site, person, shot):
    ann, bob = site.sign_up("Ann"), site.sign_up("Bob")
    conversation = site.api("POST", "/conversations", ann, title="Plans", participant_ids=[bob["id"]])
    path = f"/conversations/{conversation['id']}"
    for number in range(1, 9):
        site.api("POST", f"{path}/messages", bob, body=f"earlier {number}")
    ann_page = open_signed_in(person, ann, path)
    bob_page = open_signed_in(person, bob, path)
    expect(ann_page.locator(".message-user")).to_have_count(8)

    send(bob_page, "Meet at nine?")
    expect(ann_page.locator(".message-user").last).to_have_text(re.compile("Meet at nine\\?"))
    send(ann_page, "Nine is fine.")
    expect(bob_page.locator(".message-user").last).to_contain_text("Nine is fine.")
    send(bob_page, "See you there")  # Bob's tenth message

    for page in (ann_page, bob_page):
        expect(page.locator(".message-reward")).to_have_count(1)
        expect(page.locator(".message-reward")).to_contain_text("Congratulations, Bob! You reached 10 points.")
        expect(page.locator(".message").last).to_have_attribute("data-kind", "reward")
        # The answer to Bob's post and the events carry the same messages: each shows once.
        expect(page.locator(".message-user")).to_have_count(11)
        ids = page.locator(".message").evaluate_all("(items) => items.map((item) => Number(item.dataset.messageId))")
        assert ids == sorted(set(ids))
    expect(bob_page.locator("#points")).to_have_text("Your points: 10")
    # Ann's page, in view, moved her read marker to the newest message it shows: the congratulation.
    reward_id = ann_page.locator(".message-reward").get_attribute("data-message-id")
    expect(ann_page.locator("#messages")).to_have_attribute("data-read-up-to", reward_id)
    assert site.api("GET", path, ann)["unread_count"] == 0
    shot(ann_page, "conversation-live")
    shot(bob_page, "conversation-live-author")


def test_the_list_reorders_counts_unread_and_shows_new_conversations(site, person, shot):
    ann, bob = site.sign_up("Ann"), site.sign_up("Bob")
    older = site.api("POST", "/conversations", bob, title="Older", participant_ids=[ann["id"]])
    site.api("POST", "/conversations", bob, title="Newer", participant_ids=[ann["id"]])
    page = open_signed_in(person, ann, "/conversations")
    titles = page.locator("#conversations .conversation-title")
    expect(titles).to_have_text(["Newer", "Older"])
    badge = conversation_entry(page, "Older").locator(".unread")
    expect(badge).to_be_hidden()

    site.api("POST", f"/conversations/{older['id']}/messages", bob, body="Anyone there?")
    expect(titles).to_have_text(["Older", "Newer"])
    expect(badge).to_have_text("1 unread")
    expect(conversation_entry(page, "Older").locator(".last-message")).to_contain_text("Bob: Anyone there?")
    site.api("POST", f"/conversations/{older['id']}/messages", bob, body="Hello?")
    expect(badge).to_have_text("2 unread")

    site.api("POST", "/conversations", bob, title="Brand new", participant_ids=[ann["id"]])
    expect(titles).to_have_text(["Brand new", "Older", "Newer"])
    shot(page, "conversations-live")

    # Opening it moves my read marker to the newest message shown: the badge is gone when I come back.
    marked = f"/api/v1/conversations/{older['id']}/read"
    with page.expect_response(lambda answer: answer.url.endswith(marked) and answer.ok):
        page.get_by_role("link", name="Older").click()
    expect(page.locator(".message-user")).to_have_count(2)
    assert site.api("GET", f"/conversations/{older['id']}", ann)["unread_count"] == 0
    page.go_back()
    wait_live(page)
    expect(conversation_entry(page, "Older").locator(".unread")).to_be_hidden()


def test_a_like_on_my_post_moves_its_count_on_my_feed(site, person):
    ann, bob = site.sign_up("Ann"), site.sign_up("Bob")
    post = site.api("POST", "/posts", ann, body="Live counts")
    page = open_signed_in(person, ann, "/")
    count = post_card(page, "Live counts").locator(".like-count")
    expect(count).to_have_text("0 likes")

    site.api("POST", f"/posts/{post['id']}/like", bob)
    expect(count).to_have_text("1 like")
    site.api("DELETE", f"/posts/{post['id']}/like", bob)
    expect(count).to_have_text("0 likes")


def test_signing_out_in_one_tab_signs_out_the_other_tab_of_the_session(site, person):
    ann = site.sign_up("Ann")
    first = open_signed_in(person, ann, "/conversations")
    # A second tab of the same session: a tab opened from the first starts with a copy of its sessionStorage.
    second = first.context.new_page()
    tokens = first.evaluate("JSON.stringify(Object.assign({}, sessionStorage))")
    assert json.loads(tokens)["agora.access_token"]
    second.goto("/signin")
    second.evaluate("(items) => { for (const [key, value] of Object.entries(JSON.parse(items))) sessionStorage.setItem(key, value); }",
                    tokens)
    second.goto("/profile")
    wait_live(second)
    expect(second.locator("#facts")).to_contain_text(ann["email"])

    first.get_by_role("button", name="Sign out").click()
    expect(first).to_have_url(re.compile(r"/signin$"))
    expect(first.locator("#notice")).to_have_text("You are signed out.")

    expect(second).to_have_url(re.compile(r"/signin\?next=%2Fprofile$"))
    expect(second.locator("#notice")).to_be_visible()
    assert second.evaluate("sessionStorage.getItem('agora.access_token')") is None


def test_a_referral_and_a_finished_check_show_on_my_profile_as_they_happen(site, person):
    ann, bob = site.sign_up("Ann"), site.sign_up("Bob")
    page = open_signed_in(person, ann, "/profile")
    expect(page.locator("#referrals-empty")).to_be_visible()
    expect(page.locator("#facts .status-valid")).to_have_count(0)

    site.api("POST", "/users/me/invite", bob, invite_code=ann["invite_code"])
    expect(page.locator("#referral-count")).to_have_text("1")
    expect(page.locator("#referrals > li")).to_have_count(1)
    expect(page.locator("#referrals")).to_contain_text("Bob")
    expect(page.locator("#referrals-empty")).to_be_hidden()

    # A background check ends as app.profile_checks records one: the row, then its event after the commit.
    with site.app.app_context():
        db.session.execute(update(User).where(User.id == ann["id"]).values(email_status="valid"))
        events.publish_after_commit(events.profile_updated(ann["id"], "valid", ann["enrichment_status"]))
        db.session.commit()
    expect(page.locator("#facts .status-valid")).to_have_text("verified")


def test_a_stream_whose_token_expires_refreshes_it_and_goes_on(site, person):
    ann, bob = site.sign_up("Ann"), site.sign_up("Bob")
    post = site.api("POST", "/posts", ann, body="Still live")
    short = expiring_access_token(site.app, ann, seconds=3)
    page = person()
    hold_session(page, ann, short)
    page.goto("/")
    wait_live(page)

    # reauth: the page refreshes the token and opens a new stream from where the old one stopped.
    page.wait_for_function("(old) => sessionStorage.getItem('agora.access_token') !== old", arg=short, timeout=15_000)
    wait_live(page)
    site.api("POST", f"/posts/{post['id']}/like", bob)
    expect(post_card(page, "Still live").locator(".like-count")).to_have_text("1 like")
    expect(page.locator("#notice")).to_be_hidden()


def end_streams_of(app, user_id: int) -> None:
    """End the user's open streams as the server ends one that fell a queue behind (app.events.hub): its client
    is to resume from its last event."""
    assert app.extensions["events_hub"].disconnect(user_id) >= 1


def test_after_a_break_the_page_resumes_from_its_last_event_and_misses_none(site, person):
    ann, bob = site.sign_up("Ann"), site.sign_up("Bob")
    post = site.api("POST", "/posts", ann, body="Resumed")
    page = open_signed_in(person, ann, "/")
    count = post_card(page, "Resumed").locator(".like-count")
    site.api("POST", f"/posts/{post['id']}/like", bob)
    expect(count).to_have_text("1 like")

    resumed = re.compile(r"/api/v1/events\?ticket=[^&]+&last_event_id=\d+-\d+$")
    with page.expect_request(lambda request: bool(resumed.search(request.url))):
        end_streams_of(site.app, ann["id"])
        site.api("DELETE", f"/posts/{post['id']}/like", bob)  # during the break: only the resumed stream has it
    expect(count).to_have_text("0 likes")
    wait_live(page)
    expect(page.locator("#notice")).to_be_hidden()


def test_a_break_longer_than_what_is_kept_makes_the_page_read_again(site, person):
    ann, bob, cid, dan = (site.sign_up(name) for name in ("Ann", "Bob", "Cid", "Dan"))
    post = site.api("POST", "/posts", ann, body="Resynced")
    page = open_signed_in(person, ann, "/")
    count = post_card(page, "Resynced").locator(".like-count")
    site.api("POST", f"/posts/{post['id']}/like", bob)
    expect(count).to_have_text("1 like")

    # The page cannot come back (no ticket) while three likes change and all but the newest event is trimmed.
    page.route("**/api/v1/events/ticket", lambda route: route.abort())
    with page.expect_request("**/api/v1/events/ticket"):
        end_streams_of(site.app, ann["id"])
    for liker in (cid, dan):
        site.api("POST", f"/posts/{post['id']}/like", liker)
    with site.app.app_context():
        redis_store.client.xtrim(events.user_stream_key(ann["id"]), maxlen=1, approximate=False)
    # resync: the newest kept event is not sent; the page reads its posts' counts by REST instead.
    with page.expect_request(f"**/api/v1/posts/{post['id']}", timeout=15_000):
        page.unroute("**/api/v1/events/ticket")
    expect(count).to_have_text("3 likes")
    wait_live(page)


def test_a_duplicated_tab_and_its_original_refresh_their_shared_session_without_ending_it(site, person):
    """A duplicated tab holds a copy of the original's tokens; when both streams ask for reauth at once, one
    exchanges the refresh token and hands the new pair over, so the spent one is never presented again."""
    ann, bob = site.sign_up("Ann"), site.sign_up("Bob")
    post = site.api("POST", "/posts", ann, body="Both tabs")
    short = expiring_access_token(site.app, ann, seconds=3)
    original = person()
    duplicate = original.context.new_page()  # the same browser: tabs can see each other
    for page in (original, duplicate):
        hold_session(page, ann, short)
        page.goto("/")
    for page in (original, duplicate):
        wait_live(page)
        page.wait_for_function("(old) => sessionStorage.getItem('agora.access_token') !== old", arg=short,
                               timeout=15_000)
        wait_live(page)
    tokens = [page.evaluate("sessionStorage.getItem('agora.refresh_token')") for page in (original, duplicate)]
    assert tokens[0] == tokens[1] != ann["refresh_token"]  # one exchange, handed over
    site.api("POST", f"/posts/{post['id']}/like", bob)
    for page in (original, duplicate):
        expect(post_card(page, "Both tabs").locator(".like-count")).to_have_text("1 like")
        expect(page.locator("#notice")).to_be_hidden()
    access = original.evaluate("sessionStorage.getItem('agora.access_token')")
    me = site.app.test_client().get("/api/v1/users/me", headers=bearer(access))
    assert me.status_code == 200, me.json  # the session lives on
