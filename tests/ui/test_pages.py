"""The web interface in a real browser: each flow a person would try, asserted on what the page shows."""

import json
import re
from datetime import timedelta

from flask_jwt_extended import create_access_token

from tests.accounts import PASSWORD, bearer
from tests.ui.conftest import hold_session

try:
    from playwright.sync_api import expect
except ImportError:  # the browser fixture then fails (CI) or skips (locally), saying why
    expect = None

PAGE_POLICY = "default-src 'self'; base-uri 'none'; object-src 'none'; frame-ancestors 'none'; form-action 'self'"
PHONE_WIDTH = 375


def request_code(page, phone: str) -> str:
    """Ask for a code on the sign-in page; return the code the page shows from the dev outbox."""
    page.goto("/signin")
    page.get_by_label("Phone number").fill(phone)
    page.get_by_role("button", name="Send me a code").click()
    outbox = page.locator("#outbox")
    expect(outbox).to_contain_text("Your Agora code is")
    return re.search(r"code is (\d{4})", outbox.inner_text()).group(1)


def sign_in_by_phone(page, phone: str) -> None:
    code = request_code(page, phone)
    page.get_by_label("4-digit code").fill(code)
    page.locator("#code-form").get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(re.compile(r"/profile$"))


def sign_in_by_email(page, email: str, next_path: str = "") -> None:
    page.goto(f"/signin?next={next_path}" if next_path else "/signin")
    page.locator("#login-email").fill(email)
    page.locator("#login-password").fill(PASSWORD)
    page.locator("#login-form").get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(re.compile(f"{next_path or '/profile'}$"))


def post_card(page, text: str):
    return page.locator("article.post", has_text=text)


def test_sign_in_by_phone_with_the_code_the_page_shows_from_the_outbox(person, shot):
    page = person()
    code = request_code(page, "+7 999 123-45-67")
    expect(page.locator("#code-sent")).to_contain_text("We sent a 4-digit code to +79991234567")
    expect(page.locator("#code-where")).to_contain_text("SMS_BACKEND=outbox")
    shot(page, "signin-code")

    page.get_by_label("4-digit code").fill(code)
    page.locator("#code-form").get_by_role("button", name="Sign in").click()

    expect(page).to_have_url(re.compile(r"/profile$"))
    expect(page.locator("#facts")).to_contain_text("+79991234567")
    expect(page.locator("#invite-code")).to_have_text(re.compile(r"^[0-9A-Z]{6}$"))
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()
    shot(page, "profile")


def test_a_wrong_code_shows_its_error_on_the_page(person, shot):
    page = person()
    code = request_code(page, "+7 999 123-45-67")

    page.get_by_label("4-digit code").fill("0000" if code != "0000" else "1111")
    page.locator("#code-form").get_by_role("button", name="Sign in").click()

    expect(page.locator("#code-form .form-error")).to_have_text("The code is wrong. 4 attempts left.")
    expect(page).to_have_url(re.compile(r"/signin$"))
    shot(page, "signin-wrong-code")


def test_activating_an_invite_code_shows_the_referral_on_its_owners_profile(site, person, shot):
    ann = site.sign_up("Ann")
    bob = person()
    sign_in_by_phone(bob, "+7 999 765-43-21")

    bob.get_by_label(re.compile("Activate it")).fill("ZZZZZZ" if ann["invite_code"] != "ZZZZZZ" else "YYYYYY")
    bob.get_by_role("button", name="Activate").click()
    expect(bob.locator("#invite-form .form-error")).to_have_text("No user has this invite code.")
    shot(bob, "profile-invite-error")

    bob.get_by_label(re.compile("Activate it")).fill(ann["invite_code"].lower())
    bob.get_by_role("button", name="Activate").click()
    expect(bob.locator("#activated-text")).to_have_text(f"You activated the invite code {ann['invite_code']}: invited by Ann.")
    expect(bob.locator("#invite-form")).to_be_hidden()

    page = person()
    sign_in_by_email(page, ann["email"])
    expect(page.locator("#referral-count")).to_have_text("1")
    expect(page.locator("#referrals")).to_contain_text("+79997654321")
    page.get_by_role("button", name="Copy").click()
    expect(page.locator("#copy-result")).to_have_text("Copied.")
    assert page.evaluate("navigator.clipboard.readText()") == ann["invite_code"]
    shot(page, "profile-referral")


def test_a_second_user_likes_and_unlikes_a_post_and_sees_the_count_change(site, person, shot):
    ann, bob = site.sign_up("Ann"), site.sign_up("Bob")
    author = person()
    sign_in_by_email(author, ann["email"], "/")
    author.get_by_label("Title").fill("Hello")
    author.get_by_label("Post", exact=True).fill("First post from Ann")
    author.get_by_role("button", name="Publish").click()
    mine = post_card(author, "First post from Ann")
    expect(mine.locator(".like-count")).to_have_text("0 likes")
    expect(mine.get_by_role("button", name="Like", exact=True)).to_have_count(0)  # no liking one's own post

    liker = person()
    sign_in_by_email(liker, bob["email"], "/")
    card = post_card(liker, "First post from Ann")
    card.get_by_role("button", name="Like", exact=True).click()
    expect(card.locator(".like-count")).to_have_text("1 like")
    card.get_by_role("button", name="Who liked").click()
    expect(card.locator(".likers-list")).to_contain_text("Bob")
    shot(liker, "feed-liked")

    expect(mine.locator(".like-count")).to_have_text("1 like")  # live: no reload

    card.get_by_role("button", name="Unlike").click()
    expect(card.locator(".like-count")).to_have_text("0 likes")
    expect(card.locator(".likers")).to_contain_text("Nobody has liked this post yet.")
    expect(card.get_by_role("button", name="Like", exact=True)).to_be_visible()
    expect(mine.locator(".like-count")).to_have_text("0 likes")

    liker.goto(f"/users/{ann['id']}")
    expect(liker.locator("#user-name")).to_have_text("Ann")
    expect(post_card(liker, "First post from Ann")).to_be_visible()
    shot(liker, "user-page")


def test_the_tenth_message_brings_a_congratulation_styled_apart(site, person, shot):
    ann, bob = site.sign_up("Ann"), site.sign_up("Bob")
    page = person()
    sign_in_by_email(page, ann["email"], "/conversations")
    page.get_by_label("Title").fill("Plans")
    page.get_by_label(re.compile("Participants")).fill(f"{bob['id']}")
    page.get_by_role("button", name="Create").click()
    expect(page).to_have_url(re.compile(r"/conversations/\d+$"))
    expect(page.locator("#participants")).to_contain_text("Bob")

    for number in range(1, 11):
        page.get_by_role("textbox", name="Message").fill(f"message {number}")
        page.get_by_role("button", name="Send").click()
        expect(page.locator(".message-user")).to_have_count(number)

    reward = page.locator(".message-reward")
    expect(reward).to_have_count(1)
    expect(reward).to_contain_text("Congratulations, Ann! You reached 10 points.")
    expect(page.locator("#points")).to_have_text("Your points: 10")
    background = "(element) => getComputedStyle(element).backgroundColor"
    assert reward.evaluate(background) != page.locator(".message-user").first.evaluate(background)
    shot(page, "conversation")

    page.goto("/conversations")
    expect(page.locator("#conversations")).to_contain_text("Plans")
    shot(page, "conversations")


def test_pages_carry_the_policy_break_none_of_it_and_fit_a_phone_screen(site, person, shot):
    ann, bob = site.sign_up("Ann"), site.sign_up("Bob")
    site.api("POST", "/posts", ann, title="A long one", body="Unbroken" * 40)
    conversation = site.api("POST", "/conversations", ann, title="Plans", participant_ids=[bob["id"]])
    site.api("POST", f"/conversations/{conversation['id']}/messages", ann, body="Hi " + "x" * 300)
    page = person(width=PHONE_WIDTH, height=740)
    sign_in_by_email(page, ann["email"])
    pages = {"signin": "/signin", "feed": "/", "profile": "/profile", "user": f"/users/{ann['id']}",
             "conversations": "/conversations", "conversation": f"/conversations/{conversation['id']}"}

    for name, path in pages.items():
        response = page.goto(path)
        page.wait_for_load_state("networkidle")
        assert response.headers["content-security-policy"] == PAGE_POLICY, path
        assert page.evaluate("window.__cspViolations") == [], path
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE_WIDTH, path
        expect(page.locator("#notice")).to_be_hidden()
        shot(page, f"phone-{name}")

    assert not [line for line in page.console_messages if "Content Security Policy" in line]
    # The listener does see a violation when there is one: an inline style attribute is refused.
    page.evaluate("document.body.setAttribute('style', 'color: red')")
    page.wait_for_function("window.__cspViolations.length > 0")
    assert any("Content Security Policy" in line for line in page.console_messages)


def test_an_expired_token_is_refreshed_and_a_revoked_one_signs_out(site, person):
    ann = site.sign_up("Ann")
    with site.app.app_context():
        expired = create_access_token(str(ann["id"]), expires_delta=timedelta(seconds=-10))
    page = person()
    hold_session(page, ann, expired)

    page.goto("/profile")
    expect(page.locator("#facts")).to_contain_text(ann["email"])
    refreshed = page.evaluate("sessionStorage.getItem('agora.access_token')")
    assert refreshed != expired

    site.api("POST", "/auth/logout", {"headers": bearer(refreshed)})
    # The open page hears of it on its event stream (session.revoked) and signs out by itself.
    expect(page).to_have_url(re.compile(r"/signin\?next=%2Fprofile$"))
    expect(page.locator("#notice")).to_have_text("The token was revoked: log in again.")
    assert page.evaluate("sessionStorage.getItem('agora.access_token')") is None


def test_each_refresh_keeps_the_rotated_refresh_token_for_the_next(site, person):
    ann = site.sign_up("Ann")
    page = person()
    page.goto("/signin")
    page.evaluate("""([refresh, user]) => {
        sessionStorage.setItem("agora.refresh_token", refresh);
        sessionStorage.setItem("agora.user", user);
    }""", [ann["refresh_token"], json.dumps({"id": ann["id"], "name": "Ann"})])
    for _ in range(2):  # the second refresh presents the token the first one got: the first one is spent
        with site.app.app_context():
            expired = create_access_token(str(ann["id"]), expires_delta=timedelta(seconds=-10))
        page.evaluate("(access) => sessionStorage.setItem('agora.access_token', access)", expired)
        page.goto("/profile")
        expect(page.locator("#facts")).to_contain_text(ann["email"])
        assert page.evaluate("sessionStorage.getItem('agora.access_token')") != expired
    assert page.evaluate("sessionStorage.getItem('agora.refresh_token')") != ann["refresh_token"]


def test_field_errors_and_network_failures_reach_the_person(site, person, shot):
    page = person()
    page.goto("/signin")
    signup = page.locator("#signup-form")
    signup.get_by_label("Email").fill("not-an-email")
    signup.get_by_label(re.compile("Password")).fill("short")
    signup.get_by_role("button", name="Sign up").click()
    expect(signup.locator(".form-error")).to_have_text("The request is not valid.")
    expect(signup.locator('.field-error[data-for="email"]')).to_have_text("Not a valid email address.")
    expect(signup.locator('.field-error[data-for="password"]')).to_be_visible()
    shot(page, "signup-field-errors")

    page.context.set_offline(True)
    login = page.locator("#login-form")
    login.get_by_label("Email").fill("ann@example.com")
    login.get_by_label("Password").fill(PASSWORD)
    login.get_by_role("button", name="Sign in").click()
    expect(login.locator(".form-error")).to_have_text("Could not reach Agora: check your connection and try again.")
