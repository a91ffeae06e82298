"""Proving an address in the browser (SPEC 4, 9): after an email signup the profile asks for the mailed code,
shows it from the dev outbox (MAIL_BACKEND=outbox), sends a new one on request, and confirms."""

import re

from app.extensions import redis_store
from tests.accounts import PASSWORD

try:
    from playwright.sync_api import expect
except ImportError:  # the browser fixture then fails (CI) or skips (locally), saying why
    expect = None

EMAIL = "ada.confirms@example.com"


def sign_up_in_browser(page) -> None:
    page.goto("/signin")
    form = page.locator("#signup-form")
    form.get_by_label("Name").fill("Ada")
    form.get_by_label("Email").fill(EMAIL)
    form.get_by_label(re.compile("Password")).fill(PASSWORD)
    form.get_by_role("button", name="Sign up").click()
    expect(page).to_have_url(re.compile(r"/profile$"))


def outbox_code(page) -> str:
    box = page.locator("#confirm-mail-outbox")
    expect(box).to_contain_text("Your Agora confirmation code is")
    return re.search(r"code is (\d{6})", box.inner_text()).group(1)


def test_after_an_email_signup_the_profile_confirms_the_address_with_the_mailed_code(site, person, shot):
    page = person()
    sign_up_in_browser(page)
    card = page.locator("#confirm-email")
    expect(card).to_be_visible()
    expect(page.locator("#email-confirmed")).to_have_text("unconfirmed")
    expect(page.locator("#enrichment-status")).to_contain_text("only once you confirm")
    first = outbox_code(page)
    shot(page, "unconfirmed")

    send = page.get_by_role("button", name="Send a new code")
    send.click()  # within a minute of the first: the page says to wait
    expect(card.locator(".form-error")).to_contain_text("wait")
    with site.app.app_context():  # as if the minute had passed
        redis_store.client.delete(redis_store.key("mail", "confirm", EMAIL, "cooldown"))
    send.click()
    expect(page.locator("#email-code-sent")).to_have_text(f"A new code is on its way to {EMAIL}.")
    expect(page.locator("#confirm-mail-outbox")).not_to_contain_text(first)
    code = outbox_code(page)

    page.get_by_label("6-digit code from the mail").fill(code)
    card.get_by_role("button", name="Confirm").click()
    expect(page.locator("#email-confirmed")).to_have_text("confirmed")
    expect(card).to_be_hidden()
    shot(page, "confirmed")


def test_a_wrong_code_shows_its_error_and_the_attempts_left(site, person):
    page = person()
    sign_up_in_browser(page)
    code = outbox_code(page)
    page.get_by_label("6-digit code from the mail").fill(f"{(int(code) + 1) % 1_000_000:06d}")
    page.locator("#confirm-email").get_by_role("button", name="Confirm").click()
    expect(page.locator("#confirm-email .form-error")).to_have_text("The code is wrong. 4 attempts left.")
    expect(page.locator("#email-confirmed")).to_have_text("unconfirmed")
