"""Fixtures for email tests: a real SMTP server (aiosmtpd) on 127.0.0.1, plain or TLS."""

from __future__ import annotations

# --- email: a real SMTP server (aiosmtpd) on 127.0.0.1 --------------------------------
import datetime as dt
import email
import email.policy
import ipaddress
import socket
import ssl
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword


class _Collector:
    """An aiosmtpd handler that keeps every envelope it accepts."""

    def __init__(self) -> None:
        self.envelopes: list[tuple[Any, bool]] = []
        self.reject: set[str] = set()  # recipients answered with 550

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: list[str]
    ) -> str:
        if address in self.reject:
            return "550 5.1.1 no such mailbox"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        # STARTTLS sets session.ssl; implicit TLS shows on the transport.
        tls = session.ssl is not None or server.transport.get_extra_info("ssl_object") is not None
        self.envelopes.append((envelope, tls))
        return "250 OK"


@dataclass
class Received:
    """One message the server accepted: the SMTP envelope and the parsed message."""

    mail_from: str
    rcpt_tos: list[str]
    message: EmailMessage
    tls: bool


@dataclass
class SmtpServer:
    """A running aiosmtpd on 127.0.0.1; ``stop()``/``start()`` simulate an outage."""

    port: int
    options: dict[str, Any]
    ssl_context: ssl.SSLContext | None = None
    handler: _Collector = field(default_factory=_Collector)
    logins: list[tuple[str, str]] = field(default_factory=list)
    _controller: Controller | None = None

    host = "127.0.0.1"

    def start(self) -> None:
        # A stopped Controller has closed its loop; a new one serves the same port.
        self._controller = Controller(
            self.handler,
            hostname=self.host,
            port=self.port,
            server_hostname="smtp.test",
            ssl_context=self.ssl_context,
            ready_timeout=10,
            **self.options,
        )
        self._controller.start()

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    @property
    def received(self) -> list[Received]:
        out = []
        for env, tls in self.handler.envelopes:
            msg = email.message_from_bytes(env.original_content, policy=email.policy.default)
            assert isinstance(msg, EmailMessage)
            out.append(Received(env.mail_from, list(env.rcpt_tos), msg, tls))
        return out


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="session")
def tls_files(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 and localhost, made at test time."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    folder = tmp_path_factory.mktemp("tls")
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=2))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


@pytest.fixture
def server_tls_context(tls_files: tuple[Path, Path]) -> ssl.SSLContext:
    """The SMTP server's side of TLS."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(*tls_files)
    return ctx


@pytest.fixture
def client_tls_context(tls_files: tuple[Path, Path]) -> ssl.SSLContext:
    """A verifying client context that trusts only the test certificate."""
    return ssl.create_default_context(cafile=str(tls_files[0]))


@pytest.fixture
def smtp_factory() -> Iterator[Callable[..., SmtpServer]]:
    """Start an aiosmtpd on a free 127.0.0.1 port: ``smtp_factory(**SMTP options)``.

    ``implicit_tls=ctx`` wraps the socket in TLS (smtp_ssl); ``users={"u": "p"}`` turns on
    AUTH and records successful logins. Servers are stopped after the test.
    """
    servers: list[SmtpServer] = []

    def start(
        *, implicit_tls: ssl.SSLContext | None = None, users: dict[str, str] | None = None,
        **options: Any,
    ) -> SmtpServer:  # fmt: skip
        server = SmtpServer(port=_free_port(), options=options, ssl_context=implicit_tls)
        if users is not None:

            def authenticator(
                smtpd: Any, session: Any, envelope: Any, mechanism: str, data: Any
            ) -> AuthResult:
                ok = isinstance(data, LoginPassword) and users.get(data.login.decode()) == (
                    data.password.decode()
                )
                if ok:
                    server.logins.append((data.login.decode(), mechanism))
                return AuthResult(success=ok, handled=False)

            server.options |= {"authenticator": authenticator, "auth_require_tls": True}
        server.start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


@pytest.fixture
def smtp_server(smtp_factory: Callable[..., SmtpServer]) -> SmtpServer:
    """A plain SMTP server on 127.0.0.1 (no TLS, no AUTH) collecting what it receives."""
    return smtp_factory()
