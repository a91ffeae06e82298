"""Twilio: the Messages REST API (2010-04-01)."""

import requests

from app.integrations.http import ProviderResponse, call_provider


class TwilioClient:
    """``POST {base_url}/2010-04-01/Accounts/{sid}/Messages.json`` with HTTP basic auth."""

    name = "twilio"

    def __init__(self, *, base_url: str, account_sid: str, auth_token: str, sender: str, timeout: float,
                 session: requests.Session | None = None):
        self.base_url = base_url.rstrip("/")
        self.account_sid = account_sid
        self.auth_token = auth_token
        self.sender = sender
        self.timeout = timeout
        self.session = session or requests.Session()

    def send(self, to: str, body: str, *, attempt: int = 1) -> ProviderResponse:
        return call_provider(
            self.session, provider=self.name, endpoint="messages", method="POST",
            url=f"{self.base_url}/2010-04-01/Accounts/{self.account_sid}/Messages.json",
            data={"To": to, "From": self.sender, "Body": body}, auth=(self.account_sid, self.auth_token),
            timeout=self.timeout, attempt=attempt,
        )
