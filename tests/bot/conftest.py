"""The scripted server the client's tests answer from."""

import json

import pytest
from werkzeug.wrappers import Response

from bot.server import serve_in_thread


@pytest.fixture
def scripted_server():
    """A server answering ``statuses`` in turn to every request, then 201; yields (base URL, statuses).

    A status is a number, or ``(429, retry_after)``: a limit's answer with its ``Retry-After`` header.
    """
    statuses: list = []

    def answer(environ, start_response):
        item = statuses.pop(0) if statuses else 201
        status, retry_after = item if isinstance(item, tuple) else (item, None)
        body = ({"error": {"status": status, "code": "too_many_requests", "message": "Too many likes."}}
                if status == 429 else {"post_id": 1, "liked": True, "like_count": 1})
        headers = {"Retry-After": retry_after} if retry_after is not None else {}
        return Response(json.dumps(body), status=status, headers=headers,
                        content_type="application/json")(environ, start_response)

    server, _thread = serve_in_thread(answer)
    yield f"http://127.0.0.1:{server.server_port}", statuses
    server.shutdown()
    server.server_close()
