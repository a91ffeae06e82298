"""Clearbit: the Combined (person + company) lookup by email."""

import requests

from app.integrations.http import ProviderResponse, call_provider


class ClearbitClient:
    """``{base_url}/combined/find?email=`` with ``Authorization: Bearer <key>``."""

    name = "clearbit"

    def __init__(self, *, base_url: str, api_key: str, timeout: float, session: requests.Session | None = None):
        self.base_url = base_url.rstrip("/")
        self.api_key = api_key
        self.timeout = timeout
        self.session = session or requests.Session()

    def combined_find(self, email: str, *, attempt: int = 1) -> ProviderResponse:
        return call_provider(
            self.session, provider=self.name, endpoint="combined/find", url=f"{self.base_url}/combined/find",
            params={"email": email}, headers={"Authorization": f"Bearer {self.api_key}"},
            timeout=self.timeout, attempt=attempt,
        )
