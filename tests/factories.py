"""factory_boy factories: a test states only the fields it cares about."""

from functools import lru_cache

import factory
from factory.alchemy import SQLAlchemyModelFactory

from app.auth.passwords import hash_password
from app.extensions import db
from app.phone.crypto import code_digest
from app.phone.models import store_code
from app.phone.rules import new_code
from app.posts.models import Post
from app.users.models import User
from app.users.rules import new_invite_code
from tests.accounts import PASSWORD


@lru_cache(maxsize=1)
def _password_hash() -> str:
    return hash_password(PASSWORD)


class BaseFactory(SQLAlchemyModelFactory):
    class Meta:
        abstract = True
        sqlalchemy_session_factory = lambda: db.session  # noqa: E731 (read per call: the session is app-bound)
        sqlalchemy_session_persistence = "commit"


class UserFactory(BaseFactory):
    class Meta:
        model = User

    email = factory.Sequence(lambda n: f"person{n}@example.com")
    name = factory.Sequence(lambda n: f"Person {n}")
    password_hash = factory.LazyFunction(_password_hash)
    invite_code = factory.LazyFunction(new_invite_code)
    email_status = "skipped"
    enrichment_status = "skipped"


class PostFactory(BaseFactory):
    class Meta:
        model = Post

    author = factory.SubFactory(UserFactory)
    title = factory.Sequence(lambda n: f"Post {n}")
    body = factory.Faker("sentence")


def issue_code(phone: str, client_address: str = "198.51.100.1") -> str:
    """Store a new sign-in code for ``phone`` as the code route does (within its limits); return it in clear."""
    code = new_code()
    store_code(phone, code_digest(phone, code), client_address)
    return code
