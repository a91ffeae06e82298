"""Results belong to their address on PostgreSQL, where a check's answer can land between an email
change's read of the user and its write (SPEC 4): the change must write every check column itself."""

import threading
import time

import pytest
from sqlalchemy import select

from app.extensions import db
from app.profile_checks.services import verify_email_attempt
from app.users.models import User
from app.users.services import update_profile
from tests.accounts import PASSWORD
from tests.conftest import build_app, empty_tables, provider_config, teardown_app
from tests.factories import UserFactory
from tests.fakes import HUNTER_VERIFY, Answer, hunter_verification

pytestmark = pytest.mark.stack

OLD, NEW = "sam@example.com", "sam@undeliverable.example"


@pytest.fixture
def app(postgres_schema, providers, tmp_path):
    """PostgreSQL with the inline runner: the checks queued by the change run in this process."""
    app = build_app(tmp_path, SQLALCHEMY_DATABASE_URI=postgres_schema, **provider_config(providers))
    empty_tables(app)
    yield app
    teardown_app(app)


def in_own_context(app, function, *args):
    """Run ``function`` in another thread and app context (another session), as a worker would; wait for it."""
    result = []
    thread = threading.Thread(target=lambda: result.append(_call(app, function, *args)))
    thread.start()
    thread.join(timeout=10)
    return result[0]


def _call(app, function, *args):
    with app.app_context():
        return function(*args)


def test_an_old_address_result_recorded_between_the_changes_read_and_write_stays_off_the_new_address(app, providers):
    providers.script(HUNTER_VERIFY, Answer(200, hunter_verification(OLD)),
                     Answer(200, hunter_verification(NEW, "invalid", "undeliverable", 3)))
    with app.app_context():
        user = UserFactory(email=OLD, email_status="pending", enrichment_status="unconfirmed")
        db.session.commit()
        user_id = user.id
    with app.app_context():
        user = db.session.get(User, user_id)  # the change's read: pending, as a request's token check loads it
        assert user.email_status == "pending"
        assert in_own_context(app, verify_email_attempt, user_id, OLD).status == "valid"  # lands in between
        update_profile(user, email=NEW, current_password=PASSWORD, client_address="198.51.100.7")
    deadline = time.monotonic() + 10
    while True:
        with app.app_context():
            email, status = db.session.execute(select(User.email, User.email_status).where(User.id == user_id)).one()
        if status != "pending" or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    assert (email, status) == (NEW, "invalid")
    assert [call["args"]["email"] for call in providers.calls(HUNTER_VERIFY)] == [OLD, NEW]
