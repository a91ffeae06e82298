"""Leaving a conversation from its page, in a real browser."""

import re

from tests.ui.test_pages import expect, sign_in_by_email


def test_leaving_asks_once_then_takes_the_conversation_off_my_list(site, person, shot):
    ann, bob = site.sign_up("Ann"), site.sign_up("Bob")
    conversation = site.api("POST", "/conversations", ann, title="Plans", participant_ids=[bob["id"]])
    site.api("POST", f"/conversations/{conversation['id']}/messages", bob, body="Count me in")
    path = f"/conversations/{conversation['id']}"
    page = person()
    sign_in_by_email(page, bob["email"], path)
    expect(page.locator(".message-user")).to_have_count(1)

    page.get_by_role("button", name="Leave").click()
    expect(page.locator("#leave-hint")).to_be_visible()
    expect(page).to_have_url(re.compile(f"{path}$"))  # the first press only asks
    shot(page, "leave-asks")
    page.get_by_role("button", name="Leave for good").click()

    expect(page).to_have_url(re.compile(r"/conversations$"))
    expect(page.locator("#notice")).to_have_text("You left “Plans”.")
    expect(page.locator("#conversations-empty")).to_be_visible()
    expect(page.locator("#conversations")).not_to_contain_text("Plans")
    shot(page, "left")

    page.goto(path)
    expect(page.locator("#notice")).to_contain_text("No conversation of yours has this id.")
    remaining = site.api("GET", path, ann)
    assert [person["id"] for person in remaining["participants"]] == [ann["id"]]
