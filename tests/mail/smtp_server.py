"""A local SMTP server for the smtp backend's tests: aiosmtpd on loopback, STARTTLS on a self-signed certificate."""

import datetime
import ipaddress
import ssl
from dataclasses import dataclass, field
from email import message_from_bytes
from email.message import Message

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from tests.servers import free_port


@dataclass
class Inbox:
    """What the server received, and how it answers DATA (``reply``: None accepts, else e.g. ``451 try later``)."""

    messages: list[Message] = field(default_factory=list)
    envelopes: list = field(default_factory=list)
    reply: str | None = None

    async def handle_DATA(self, server, session, envelope):
        if self.reply:
            return self.reply
        self.envelopes.append(envelope)
        self.messages.append(message_from_bytes(envelope.content))
        return "250 Message accepted for delivery"


def self_signed_certificate(directory) -> tuple[str, str]:
    """A certificate for localhost and 127.0.0.1, and its key: PEM file paths."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.datetime.now(datetime.timezone.utc)
    certificate = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5)).not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost"),
                                                    x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "smtp-cert.pem", directory / "smtp-key.pem"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return str(cert_path), str(key_path)


class SmtpServer:
    """An aiosmtpd Controller on a free loopback port; with ``tls`` (cert, key) it requires STARTTLS, and
    with ``login`` (user, password) it requires that login too."""

    def __init__(self, *, tls: tuple[str, str] | None = None, login: tuple[str, str] | None = None):
        self.inbox = Inbox()
        self.port = free_port()
        options = {}
        if tls:
            context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            context.load_cert_chain(*tls)
            options.update(tls_context=context, require_starttls=True)
        if login:
            options.update(authenticator=self.authenticator(login), auth_required=True)
        self.controller = Controller(self.inbox, hostname="127.0.0.1", port=self.port, **options)

    @staticmethod
    def authenticator(login):
        def authenticate(server, session, envelope, mechanism, auth_data):
            given = (auth_data.login.decode(), auth_data.password.decode())
            return AuthResult(success=given == login, handled=False)  # not handled: the server answers 535
        return authenticate

    def __enter__(self) -> "SmtpServer":
        self.controller.start()
        return self

    def __exit__(self, *exc_info):
        self.controller.stop()
