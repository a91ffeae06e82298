"""The bot's in-process server: a small threaded HTTP/1.1 WSGI server that keeps connections alive.

werkzeug's development server closes every connection, so each bot request paid a connect and a new
thread. For loopback only: bodies by Content-Length (no chunked uploads), responses buffered.
"""

import email.utils
import socket
import socketserver
import sys
import threading
import traceback
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler
from io import BytesIO
from urllib.parse import unquote

MAX_BODY = 16 * 1024 * 1024  # far above the app's own 256 KiB cap, which answers 413 itself
MAX_LINE = 65536
MAX_HEADERS = 100
IDLE_SECONDS = 60  # a connection left idle this long is closed: its thread must not wait forever
HOP_BY_HOP = frozenset({"connection", "keep-alive", "transfer-encoding", "content-length"})


class KeepAliveHandler(BaseHTTPRequestHandler):
    """One connection: read a request, call the app, send its answer, and wait for the next request."""

    protocol_version = "HTTP/1.1"
    timeout = IDLE_SECONDS

    def setup(self):
        super().setup()
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def handle_one_request(self):
        try:
            self.raw_requestline = self.rfile.readline(MAX_LINE + 1)
            if len(self.raw_requestline) > MAX_LINE:
                self.send_error(HTTPStatus.REQUEST_URI_TOO_LONG)
                return
            if not self.raw_requestline:
                self.close_connection = True
                return
            if self.parse_request():  # answers its errors itself
                self.run_wsgi()
        except (TimeoutError, ConnectionError):
            self.close_connection = True

    def parse_request(self) -> bool:
        """The request line and headers, without the email parser http.server uses (a tenth of a request's cost).

        Sets ``command``, ``path``, ``request_version``, ``header_fields`` (in order), ``headers`` (by
        lower-case name) and ``close_connection``; on a malformed request answers 4xx/5xx and returns False.
        """
        self.command, self.request_version, self.close_connection = None, "HTTP/1.0", True
        words = self.raw_requestline.decode("iso-8859-1").split()
        if len(words) != 3 or not words[2].startswith("HTTP/"):
            self.send_error(HTTPStatus.BAD_REQUEST, "Bad request line")
            return False
        if words[2] not in ("HTTP/1.0", "HTTP/1.1"):
            self.send_error(HTTPStatus.HTTP_VERSION_NOT_SUPPORTED)
            return False
        self.command, self.path, self.request_version = words
        fields = []
        while True:
            line = self.rfile.readline(MAX_LINE + 1)
            if len(line) > MAX_LINE or len(fields) > MAX_HEADERS:
                self.send_error(HTTPStatus.REQUEST_HEADER_FIELDS_TOO_LARGE)
                return False
            if line in (b"\r\n", b"\n", b""):
                break
            name, colon, value = line.decode("iso-8859-1").partition(":")
            if not colon or not name or name != name.strip():  # no space before the colon, no folded lines
                self.send_error(HTTPStatus.BAD_REQUEST, "Bad header line")
                return False
            fields.append((name, value.strip()))
        self.header_fields = fields
        self.headers = {}
        for name, value in fields:
            name = name.lower()
            self.headers[name] = f"{self.headers[name]},{value}" if name in self.headers else value
        connection = self.headers.get("connection", "").lower()
        self.close_connection = "close" in connection or (self.request_version == "HTTP/1.0"
                                                          and "keep-alive" not in connection)
        if self.headers.get("expect", "").lower() == "100-continue" and self.request_version == "HTTP/1.1":
            self.wfile.write(b"HTTP/1.1 100 Continue\r\n\r\n")
        return True

    def run_wsgi(self):
        if "chunked" in self.headers.get("transfer-encoding", "").lower():
            self.close_connection = True
            self.send_error(HTTPStatus.LENGTH_REQUIRED, "chunked request bodies are not supported here")
            return
        length = self.headers.get("content-length", "")
        if length and (not length.isdigit() or int(length) > MAX_BODY):
            self.close_connection = True
            self.send_error(HTTPStatus.BAD_REQUEST if not length.isdigit() else HTTPStatus.REQUEST_ENTITY_TOO_LARGE)
            return
        body = self.rfile.read(int(length)) if length else b""
        answer: dict = {}

        def start_response(status, headers, exc_info=None):
            # Nothing is sent before the app returns, so a second call (exc_info) just replaces the first.
            answer["status"], answer["headers"] = status, headers
            return answer.setdefault("chunks", []).append  # the legacy write() callable

        try:
            result = self.server.app(self.environ(body), start_response)
            try:
                chunks = answer.get("chunks", []) + [chunk for chunk in result if chunk]
            finally:
                if hasattr(result, "close"):
                    result.close()
        except Exception:  # noqa: BLE001 - any error of the app becomes a logged 500, never a dead connection
            self.log_error("the app raised outside its own error handling:\n%s", traceback.format_exc())
            self.close_connection = True
            self.send_error(HTTPStatus.INTERNAL_SERVER_ERROR)
            return
        self.send_answer(answer["status"], answer["headers"], b"".join(chunks))

    def environ(self, body: bytes) -> dict:
        path, _, query = self.path.partition("?")
        if "://" in path:  # an absolute-form target: keep its path
            path = "/" + path.split("://", 1)[1].partition("/")[2]
        environ = {
            "wsgi.version": (1, 0), "wsgi.url_scheme": "http", "wsgi.input": BytesIO(body),
            "wsgi.input_terminated": True, "wsgi.errors": sys.stderr, "wsgi.multithread": True,
            "wsgi.multiprocess": False, "wsgi.run_once": False,
            "SERVER_SOFTWARE": "agora-bot-server", "REQUEST_METHOD": self.command, "SCRIPT_NAME": "",
            "PATH_INFO": unquote(path, encoding="latin-1"), "QUERY_STRING": query, "REQUEST_URI": self.path,
            "REMOTE_ADDR": self.client_address[0], "REMOTE_PORT": self.client_address[1],
            "SERVER_NAME": self.server.server_address[0], "SERVER_PORT": str(self.server.server_address[1]),
            "SERVER_PROTOCOL": self.request_version,
        }
        for key, value in self.header_fields:
            if "_" in key:  # Foo_Bar would pass for Foo-Bar in the environ: dropped, as werkzeug does
                continue
            key = key.upper().replace("-", "_")
            if key not in ("CONTENT_TYPE", "CONTENT_LENGTH"):
                key = f"HTTP_{key}"
                if key in environ:
                    value = f"{environ[key]},{value}"
            environ[key] = value
        return environ

    def send_answer(self, status: str, headers: list, body: bytes) -> None:
        code = int(status.split(" ", 1)[0])
        bodyless = self.command == "HEAD" or code < 200 or code in (204, 304)
        lines = [f"{self.protocol_version} {status}", f"Date: {email.utils.formatdate(usegmt=True)}"]
        lines += [f"{name}: {value}" for name, value in headers
                  if name.lower() not in HOP_BY_HOP or (bodyless and name.lower() == "content-length")]
        if not bodyless:
            lines.append(f"Content-Length: {len(body)}")
        if self.close_connection:
            lines.append("Connection: close")
        head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
        self.wfile.write(head if bodyless else head + body)  # one write: no Nagle stall between head and body

    def log_request(self, code="-", size="-"):
        """Thousands of bot requests would bury the summary: the server logs errors only."""


class KeepAliveServer(socketserver.ThreadingMixIn, socketserver.TCPServer):
    """One thread per connection; threads are daemons and not waited for on close (idle ones time out)."""

    daemon_threads = True
    block_on_close = False
    allow_reuse_address = True

    def __init__(self, host: str, port: int, app):
        self.app = app
        super().__init__((host, port), KeepAliveHandler)

    @property
    def server_port(self) -> int:
        return self.server_address[1]


def serve_in_thread(app, host: str = "127.0.0.1", port: int = 0) -> tuple[KeepAliveServer, threading.Thread]:
    """Start serving ``app`` on a background thread; returns the server (``.server_port``) and the thread."""
    server = KeepAliveServer(host, port, app)
    thread = threading.Thread(target=server.serve_forever, name="bot-server", daemon=True)
    thread.start()
    return server, thread

