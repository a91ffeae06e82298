"""After signing in, the page goes where ``?next=`` says only if the browser resolves it to this site."""

import re
from urllib.parse import urlsplit

import pytest

from tests.accounts import PASSWORD


try:
    from playwright.sync_api import expect
except ImportError:  # the browser fixture then fails (CI) or skips (locally), saying why
    expect = None

# Written as an attacker writes them into a link: a backslash, a tab or a newline after the first
# slash, which the URL parser drops or reads as a slash, so the browser sees "//evil.example".
OFF_SITE = ["/%5Cevil.example/phish", "/%09/evil.example/phish", "/%0A/evil.example/phish",
            "/%5C/evil.example/phish", "%2F%5Cevil.example", "/%0D%0A/evil.example", "//evil.example/phish",
            "https://evil.example/phish", "javascript:alert(document.domain)", "https:evil.example"]


def sign_in_with_next(page, site, next_value: str) -> list[str]:
    """Sign a new user in from ``/signin?next=<next_value>``; returns the off-site requests the page tried."""
    user = site.sign_up("Ann")
    site_host = urlsplit(site.url).netloc
    off_site = []

    def only_this_site(route):
        if urlsplit(route.request.url).netloc == site_host:
            route.continue_()
        else:
            off_site.append(route.request.url)
            route.abort()

    page.context.route("**/*", only_this_site)
    page.goto(f"/signin?next={next_value}")
    page.locator("#login-email").fill(user["email"])
    page.locator("#login-password").fill(PASSWORD)
    page.locator("#login-form").get_by_role("button", name="Sign in").click()
    return off_site


@pytest.mark.parametrize("payload", OFF_SITE)
def test_a_next_leading_off_site_lands_on_the_profile(site, person, payload):
    page = person()
    off_site = sign_in_with_next(page, site, payload)
    expect(page).to_have_url(f"{site.url}/profile")
    expect(page.locator("h1")).to_be_visible()
    assert off_site == []
    assert urlsplit(page.url).netloc == urlsplit(site.url).netloc


@pytest.mark.parametrize("payload, landing", [
    ("/conversations", "/conversations"),
    ("%2Fprofile%3Ftab%3Dreferrals", "/profile?tab=referrals"),
    ("/signin", "/profile"),  # never back to the form itself
])
def test_a_next_on_this_site_is_followed(site, person, payload, landing):
    page = person()
    assert sign_in_with_next(page, site, payload) == []
    expect(page).to_have_url(re.compile(re.escape(f"{site.url}{landing}") + "$"))
