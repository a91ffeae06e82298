"""Hunter: the Email Verifier and Combined Enrichment APIs (v2)."""

import requests

from app.integrations.http import ProviderResponse, call_provider


class HunterClient:
    """``{base_url}/email-verifier`` and ``{base_url}/combined/find``, keyed by ``api_key``."""

    name = "hunter"

    def __init__(self, *, base_url: str, api_key: str, timeout: float, session: requests.Session | None = None):
        self.base_url = base_url.rstrip("/")
        self.api_key = api_key
        self.timeout = timeout
        self.session = session or requests.Session()

    def verify_email(self, email: str, *, attempt: int = 1) -> ProviderResponse:
        return self._get("email-verifier", email, attempt)

    def combined_find(self, email: str, *, attempt: int = 1) -> ProviderResponse:
        return self._get("combined/find", email, attempt)

    def _get(self, endpoint: str, email: str, attempt: int) -> ProviderResponse:
        return call_provider(
            self.session, provider=self.name, endpoint=endpoint, url=f"{self.base_url}/{endpoint}",
            params={"email": email, "api_key": self.api_key}, timeout=self.timeout, attempt=attempt,
        )
