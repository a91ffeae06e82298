"""An API user as the tests drive one: the test password and the bearer header of a token."""

PASSWORD = "correct horse"


def bearer(token: str) -> dict:
    """The Authorization header that presents ``token``."""
    return {"Authorization": f"Bearer {token}"}
