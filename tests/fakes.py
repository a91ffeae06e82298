"""Fake Hunter, Clearbit and Twilio servers on 127.0.0.1, answering in the providers' documented shapes.

The real clients talk to them over HTTP. A test scripts answers per endpoint; once the
script is used up the endpoint gives its default (a successful answer). Every request is
recorded (path, query and headers) for assertions.
"""

import json
import threading
import time
from collections import defaultdict, deque
from dataclasses import dataclass, field

from werkzeug.serving import WSGIRequestHandler, make_server
from werkzeug.wrappers import Request, Response

HUNTER_VERIFY = "hunter:email-verifier"
HUNTER_COMBINED = "hunter:combined/find"
CLEARBIT_COMBINED = "clearbit:combined/find"
TWILIO_MESSAGES = "twilio:messages"

PERSON = {
    "id": "d54c54ad-40be-4305-8a34-0ab44710b90d",
    "name": {"fullName": "Alex MacCaw", "givenName": "Alex", "familyName": "MacCaw"},
    "email": "alex@example.com",
    "location": "San Francisco, CA, US",
    "bio": "O'Reilly author, software engineer & traveller.",
    "site": "http://alexmaccaw.com",
    "avatar": "https://d1ts43dypk8bqh.cloudfront.net/v1/avatars/d54c54ad.png",
    "employment": {"domain": "clearbit.com", "name": "Clearbit", "title": "Co-founder, CEO", "role": "leadership"},
    "facebook": {"handle": "amaccaw"},
    "github": {"handle": "maccman", "id": 2142, "followers": 2932},
    "twitter": {"handle": "maccaw", "followers": 15248},
    "linkedin": {"handle": "pub/alex-maccaw/78/929/ab5"},
}
COMPANY = {"id": "3f5d6a4e", "name": "Clearbit", "domain": "clearbit.com", "category": {"sector": "Technology"}}


def hunter_verification(email: str, status: str = "valid", result: str = "deliverable", score: int = 100) -> dict:
    """Hunter's Email Verifier 200 body (API v2)."""
    return {
        "data": {
            "status": status, "result": result, "score": score, "email": email,
            "regexp": True, "gibberish": False, "disposable": status == "disposable", "webmail": status == "webmail",
            "mx_records": True, "smtp_server": True, "smtp_check": status == "valid", "accept_all": status == "accept_all",
            "block": False, "sources": [],
        },
        "meta": {"params": {"email": email}},
    }


def hunter_error(code: int, error_id: str, details: str) -> dict:
    return {"errors": [{"id": error_id, "code": code, "details": details}]}


@dataclass
class Answer:
    status: int = 200
    body: dict | str | None = None  # a dict is sent as JSON; a str is sent as is (e.g. a malformed body)
    headers: dict = field(default_factory=dict)
    delay: float = 0.0  # seconds before answering: longer than the client's timeout makes a timeout


class FakeProviders:
    """The fake servers' state: scripted answers and recorded requests."""

    def __init__(self):
        self.scripts: dict[str, deque] = defaultdict(deque)
        self.requests: list[dict] = []
        self.lock = threading.Lock()
        self.url = None

    @property
    def hunter_url(self) -> str:
        return f"{self.url}/hunter/v2"

    @property
    def clearbit_url(self) -> str:
        return f"{self.url}/clearbit/v2"

    @property
    def twilio_url(self) -> str:
        return f"{self.url}/twilio"

    def script(self, endpoint: str, *answers: Answer) -> None:
        with self.lock:
            self.scripts[endpoint].extend(answers)

    def calls(self, endpoint: str) -> list[dict]:
        with self.lock:
            return [request for request in self.requests if request["endpoint"] == endpoint]

    def _default(self, endpoint: str, email: str, form: dict) -> Answer:
        if endpoint == TWILIO_MESSAGES:
            return Answer(201, {"sid": "SM" + "0" * 32, "status": "queued", "to": form.get("To"),
                                "from": form.get("From"), "body": form.get("Body"), "error_code": None})
        if endpoint == HUNTER_VERIFY:
            return Answer(200, hunter_verification(email))
        if endpoint == HUNTER_COMBINED:
            return Answer(200, {"data": {"person": {**PERSON, "email": email}, "company": COMPANY},
                                "meta": {"email": email}})
        return Answer(200, {"person": {**PERSON, "email": email}, "company": COMPANY})

    def __call__(self, environ, start_response):
        request = Request(environ)
        provider, _, rest = request.path.strip("/").partition("/")
        if provider == "twilio" and rest.startswith("2010-04-01/Accounts/") and rest.endswith("/Messages.json"):
            rest = "messages"
        endpoint = f"{provider}:{rest.removeprefix('v2/')}"
        form = dict(request.form)
        with self.lock:
            self.requests.append({"endpoint": endpoint, "method": request.method, "path": request.path,
                                  "args": dict(request.args), "form": form, "headers": dict(request.headers),
                                  "auth": (request.authorization.username, request.authorization.password)
                                  if request.authorization else None})
            answer = self.scripts[endpoint].popleft() if self.scripts[endpoint] else None
        if endpoint not in (HUNTER_VERIFY, HUNTER_COMBINED, CLEARBIT_COMBINED, TWILIO_MESSAGES):
            answer = Answer(404, {"errors": [{"id": "not_found", "code": 404, "details": "No route"}]})
        answer = answer or self._default(endpoint, request.args.get("email", ""), form)
        if answer.delay:
            time.sleep(answer.delay)
        body = answer.body if isinstance(answer.body, str) else json.dumps(answer.body if answer.body is not None else {})
        response = Response(body, status=answer.status, headers=answer.headers, content_type="application/json")
        return response(environ, start_response)


class QuietHandler(WSGIRequestHandler):
    def log_request(self, *args, **kwargs):
        """The fake's access log would print its callers' keys: the tests assert the app never does."""


class FakeProviderServer:
    """Serve a FakeProviders on a free loopback port in a thread."""

    def __init__(self):
        self.providers = FakeProviders()
        self.server = make_server("127.0.0.1", 0, self.providers, threaded=True, request_handler=QuietHandler)
        self.providers.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> FakeProviders:
        self.thread.start()
        return self.providers

    def __exit__(self, *exc_info):
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)
