"""The pages' credential flows in a real browser: a re-authenticated email and password change, a password reset."""

import re
import time

from app.extensions import redis_store
from tests.accounts import PASSWORD
from tests.ui.test_pages import sign_in_by_email, sign_in_by_phone

try:
    from playwright.sync_api import expect
except ImportError:  # the browser fixture then fails (CI) or skips (locally), saying why
    expect = None

PHONE = "+79997654321"


def sms_codes(site, phone: str, count: int, timeout: float = 5.0) -> str:
    """The newest code of the ``count``-th SMS to ``phone`` in the dev outbox, as the phone's holder reads it."""
    deadline = time.monotonic() + timeout
    while len(items := site.app.test_client().get("/api/v1/dev/sms-outbox", query_string={"phone": phone})
               .json["items"]) < count:
        assert time.monotonic() < deadline, "no SMS arrived"
        time.sleep(0.05)
    return re.search(r"code is (\d{4})", items[0]["body"]).group(1)


def test_changing_the_email_asks_for_the_current_password(site, person, shot):
    ann = site.sign_up("Ann")
    page = person()
    sign_in_by_email(page, ann["email"])
    form = page.locator("#credentials-form")

    page.get_by_label("New email").fill("ann.new@example.com")
    form.get_by_role("button", name="Save email and password").click()
    expect(form.locator('[data-for="current_password"]')).to_contain_text("Required to change your email or password")

    page.get_by_label("Your current password").fill("not my password")
    form.get_by_role("button", name="Save email and password").click()
    expect(form.locator('[data-for="current_password"]')).to_have_text("Wrong password.")
    expect(page.locator("#facts")).to_contain_text(ann["email"])
    shot(page, "profile-wrong-current-password")

    page.get_by_label("Your current password").fill(PASSWORD)
    form.get_by_role("button", name="Save email and password").click()
    expect(page.locator("#notice")).to_have_text("Saved. Every other session of your account was signed out.")
    expect(page.locator("#facts")).to_contain_text("ann.new@example.com")
    page.reload()  # the page goes on with the answer's fresh tokens
    expect(page.locator("#facts")).to_contain_text("ann.new@example.com")
    # The session the API shortcut opened before the change has ended.
    assert site.app.test_client().get("/api/v1/users/me", headers=ann["headers"]).status_code == 401
    shot(page, "profile-email-changed")


def test_a_phone_account_adds_an_email_and_password_with_a_code_sent_to_its_phone(site, person, shot):
    page = person()
    sign_in_by_phone(page, "+7 999 765-43-21")
    form = page.locator("#credentials-form")
    expect(page.locator("#phone-code-field")).to_be_visible()
    expect(page.locator("#current-password-field")).to_be_hidden()
    with site.app.app_context():  # as if the sign-in code's resend cooldown had passed
        redis_store.client.delete(redis_store.key("phone", PHONE, "cooldown"))

    page.get_by_role("button", name="Send a code to my phone").click()
    expect(page.locator("#phone-code-sent")).to_contain_text(PHONE)
    page.get_by_label("New email").fill("phone.person@example.com")
    page.get_by_label("New password").fill("a fresh passphrase")
    page.get_by_label("4-digit code from your phone").fill(sms_codes(site, PHONE, count=2))
    form.get_by_role("button", name="Save email and password").click()

    expect(page.locator("#notice")).to_have_text("Saved. Every other session of your account was signed out.")
    expect(page.locator("#facts")).to_contain_text("phone.person@example.com")
    expect(page.locator("#current-password-field")).to_be_visible()  # a password proves the next change
    login = site.app.test_client().post("/api/v1/auth/login", json={"email": "phone.person@example.com",
                                                                    "password": "a fresh passphrase"})
    assert login.status_code == 200
    shot(page, "profile-phone-account-email-added")


def test_a_forgotten_password_is_reset_with_the_code_the_page_shows_from_the_mail_outbox(site, person, shot):
    ann = site.sign_up("Ann")
    page = person()
    page.goto("/signin")
    page.get_by_label("Your account's email").fill(ann["email"])
    page.get_by_role("button", name="Mail me a reset code").click()
    expect(page.locator("#reset-sent")).to_have_text(f"If an account has {ann['email']}, a 6-digit code is on its way there.")
    outbox = page.locator("#mail-outbox")
    expect(outbox).to_contain_text("Your Agora password reset code is")
    code = re.search(r"code is (\d{6})", outbox.inner_text()).group(1)
    shot(page, "signin-reset-code")

    page.get_by_label("6-digit code").fill(code)
    page.get_by_label("New password").fill("a brand new passphrase")
    page.get_by_role("button", name="Set the password and sign in").click()

    expect(page).to_have_url(re.compile(r"/profile$"))
    expect(page.locator("#facts")).to_contain_text(ann["email"])
    assert site.app.test_client().get("/api/v1/users/me", headers=ann["headers"]).status_code == 401
    logins = [site.app.test_client().post("/api/v1/auth/login", json={"email": ann["email"], "password": password})
              .status_code for password in (PASSWORD, "a brand new passphrase")]
    assert logins == [401, 200]


def test_a_wrong_reset_code_shows_its_error_and_an_unknown_address_the_same_page(site, person, shot):
    page = person()
    page.goto("/signin")
    page.get_by_label("Your account's email").fill("nobody@example.com")
    page.get_by_role("button", name="Mail me a reset code").click()
    expect(page.locator("#reset-sent")).to_have_text("If an account has nobody@example.com, a 6-digit code is on its way there.")
    page.get_by_label("6-digit code").fill("123456")
    page.get_by_label("New password").fill("a brand new passphrase")
    page.get_by_role("button", name="Set the password and sign in").click()
    expect(page.locator("#reset-form .form-error")).to_contain_text("The code is wrong or has expired")
    expect(page).to_have_url(re.compile(r"/signin$"))
    shot(page, "signin-reset-wrong-code")
