"""The bot's in-process server: HTTP/1.1 keep-alive, and WSGI as the app expects it."""

import json
import socket

import pytest

from bot.server import serve_in_thread


def echo(environ, start_response):
    """Answers with what it was given; /boom raises, /empty answers 204, /stream answers in two chunks."""
    path = environ["PATH_INFO"]
    if path == "/boom":
        raise RuntimeError("boom")
    if path == "/empty":
        start_response("204 No Content", [])
        return []
    body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
    seen = {"method": environ["REQUEST_METHOD"], "path": path, "query": environ["QUERY_STRING"],
            "body": body.decode(), "type": environ.get("CONTENT_TYPE", ""), "port": environ["REMOTE_PORT"],
            "auth": environ.get("HTTP_AUTHORIZATION"), "sneaky": environ.get("HTTP_X_SNEAKY")}
    start_response("200 OK", [("Content-Type", "application/json")])
    data = json.dumps(seen).encode()
    return [data[:5], data[5:]] if path == "/stream" else [data]


@pytest.fixture
def server():
    server, thread = serve_in_thread(echo)
    yield server
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


def exchange(sock, request: bytes) -> tuple[str, dict, bytes]:
    """Send one request and read exactly one response (by Content-Length) from a kept-alive socket."""
    sock.sendall(request)
    data = b""
    while b"\r\n\r\n" not in data:
        data += sock.recv(65536)
    head, _, rest = data.partition(b"\r\n\r\n")
    status, *lines = head.decode("latin-1").split("\r\n")
    headers = {name.lower(): value for name, value in (line.split(": ", 1) for line in lines)}
    length = int(headers.get("content-length", 0))
    while len(rest) < length:
        rest += sock.recv(65536)
    return status, headers, rest[:length]


def connect(server) -> socket.socket:
    return socket.create_connection(("127.0.0.1", server.server_port), timeout=5)


def test_one_connection_carries_many_requests(server):
    with connect(server) as sock:
        answers = [exchange(sock, f"GET /n/{n}?page={n} HTTP/1.1\r\nHost: x\r\n\r\n".encode()) for n in range(3)]
    assert [status for status, _, _ in answers] == ["HTTP/1.1 200 OK"] * 3
    seen = [json.loads(body) for _, _, body in answers]
    assert [item["path"] for item in seen] == ["/n/0", "/n/1", "/n/2"] and seen[2]["query"] == "page=2"
    assert len({item["port"] for item in seen}) == 1
    assert all("connection" not in headers for _, headers, _ in answers)


def test_a_body_and_headers_reach_the_app(server):
    body = json.dumps({"title": "é"}).encode()
    with connect(server) as sock:
        status, headers, answer = exchange(sock, b"POST /stream HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                                           b"Authorization: Bearer t\r\nX_Sneaky: 1\r\n"
                                           + f"Content-Length: {len(body)}\r\n\r\n".encode() + body)
        status_after, _, _ = exchange(sock, b"GET /again HTTP/1.1\r\nHost: x\r\n\r\n")
    seen = json.loads(answer)
    assert status == status_after == "HTTP/1.1 200 OK"
    assert int(headers["content-length"]) == len(answer)  # a streamed answer is sent with its length
    assert (seen["method"], seen["body"], seen["type"], seen["auth"]) == ("POST", body.decode(), "application/json",
                                                                          "Bearer t")
    assert seen["sneaky"] is None  # X_Sneaky must not pass for X-Sneaky


def test_connection_close_is_honoured(server):
    with connect(server) as sock:
        _, headers, _ = exchange(sock, b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        assert headers["connection"] == "close"
        assert sock.recv(10) == b""


def test_a_chunked_upload_is_refused_and_the_connection_closed(server):
    with connect(server) as sock:
        status, headers, _ = exchange(sock, b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
                                            b"2\r\n{}\r\n0\r\n\r\n")
        assert status.startswith("HTTP/1.1 411") and headers["connection"] == "close"


def test_an_answer_without_a_body_has_no_length(server):
    with connect(server) as sock:
        status, headers, body = exchange(sock, b"GET /empty HTTP/1.1\r\nHost: x\r\n\r\n")
        assert status == "HTTP/1.1 204 No Content" and body == b"" and "content-length" not in headers
        assert exchange(sock, b"GET /after HTTP/1.1\r\nHost: x\r\n\r\n")[0] == "HTTP/1.1 200 OK"


def test_an_app_that_raises_gets_a_500_and_a_closed_connection(server, capsys):
    with connect(server) as sock:
        status, headers, _ = exchange(sock, b"GET /boom HTTP/1.1\r\nHost: x\r\n\r\n")
    assert status.startswith("HTTP/1.1 500") and headers["connection"] == "close"
    assert "RuntimeError: boom" in capsys.readouterr().err


# Each request ends where the server stops reading: unread bytes at close would reset the connection.
@pytest.mark.parametrize("request_bytes, status", [
    (b"GARBAGE\r\n", "400"),
    (b"GET / HTTP/2.0\r\n", "505"),
    (b"GET / HTTP/1.1\r\nHost : x\r\n", "400"),  # a space before the colon
    (b"GET / HTTP/1.1\r\nX-A: 1\r\n folded\r\n", "400"),  # an obsolete folded line
    (b"GET / HTTP/1.1\r\n" + b"X-A: 1\r\n" * 101 + b"\r\n", "431"),
])
def test_a_malformed_request_is_refused_and_the_connection_closed(server, request_bytes, status):
    with connect(server) as sock:
        answer, headers, _ = exchange(sock, request_bytes)
        assert answer.split(" ")[1] == status and headers["connection"] == "close"


def test_http_1_0_closes_unless_asked_to_keep_alive(server):
    with connect(server) as sock:
        assert exchange(sock, b"GET / HTTP/1.0\r\n\r\n")[1]["connection"] == "close"
    with connect(server) as sock:
        exchange(sock, b"GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
        assert exchange(sock, b"GET /again HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")[0].endswith("200 OK")


def test_expect_100_continue_is_answered_before_the_body(server):
    with connect(server) as sock:
        sock.sendall(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nExpect: 100-continue\r\n\r\n")
        assert sock.recv(100) == b"HTTP/1.1 100 Continue\r\n\r\n"
        status, _, body = exchange(sock, b"{}")
    assert status == "HTTP/1.1 200 OK" and json.loads(body)["body"] == "{}"
