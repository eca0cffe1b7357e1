"""Build email messages safely and hand them to a transport (an outbox folder or SMTP).

Everything that comes from the sheet (names, addresses, team names) passes through
:func:`safe_address` or :func:`one_line` before it reaches a header, so a cell can never
add a header or a recipient: addresses must be one plain ``user@domain`` (no comma
lists, no CR/LF) and display names and subjects are flattened to one line.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import email.utils
import hashlib
import os
import re
import smtplib
import socket
import ssl
import tempfile
from abc import ABC, abstractmethod
from email.headerregistry import Address
from email.message import EmailMessage
from email.parser import BytesHeaderParser
from pathlib import Path

from okrsync.config import EmailConfig, Transport
from okrsync.errors import NotifyError
from okrsync.parse import EMAIL_RE

__all__ = [
    "FileTransport",
    "MailTransport",
    "SendError",
    "SmtpTransport",
    "UnsafeAddressError",
    "build_message",
    "new_message_id",
    "one_line",
    "open_transport",
    "safe_address",
]

_ADDRESS = re.compile(EMAIL_RE)
_CONTROL = re.compile(r"[\x00-\x1f\x7f\u2028\u2029]+")


class UnsafeAddressError(ValueError):
    """A recipient that is not exactly one plain address (so it is never sent to)."""


class SendError(NotifyError):
    """One message could not be handed over; the message says why, without secrets."""


def one_line(text: object) -> str:
    """``text`` on one line: control characters (CR, LF, tabs...) and space runs become one space.

    Used for every header value built from sheet text.
    """
    return " ".join(_CONTROL.sub(" ", str(text)).split())


def safe_address(addr: object, name: object = "") -> Address:
    """One recipient as an :class:`~email.headerregistry.Address`, or :class:`UnsafeAddressError`.

    The address must be a single ``user@domain`` with no spaces, commas, quotes or line
    breaks (the sheet parser already checks this; this is the check at the boundary).
    The display name is flattened to one line, so a name cell with a line break shows as
    a longer name instead of starting a new header.
    """
    if not isinstance(addr, str) or not _ADDRESS.fullmatch(addr):
        raise UnsafeAddressError(f"{addr!r} is not a single email address")
    try:
        return Address(display_name=one_line(name or ""), addr_spec=addr)
    except (ValueError, TypeError) as e:  # headerregistry raises its defects as ValueError
        raise UnsafeAddressError(f"{addr!r} is not a single email address ({e})") from e


def new_message_id(sender: str) -> str:
    """A fresh ``<...@domain>`` Message-ID under the sender's domain (no host name leaks)."""
    return email.utils.make_msgid(domain=sender.rpartition("@")[2] or "okrsync.invalid")


def build_message(
    *,
    sender: Address,
    to: Address,
    subject: str,
    text: str,
    html: str,
    message_id: str,
    date: dt.datetime | None = None,
) -> EmailMessage:
    """A multipart/alternative message: the plain-text part first, the HTML part preferred."""
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = to
    msg["Subject"] = one_line(subject)
    msg["Date"] = email.utils.format_datetime(date or dt.datetime.now(dt.UTC))
    msg["Message-ID"] = message_id
    # RFC 3834: tells autoresponders (out-of-office) not to answer a robot.
    msg["Auto-Submitted"] = "auto-generated"
    # Quoted-printable keeps both parts readable in the raw .eml (base64 would not).
    msg.set_content(text, subtype="plain", charset="utf-8", cte="quoted-printable")
    msg.add_alternative(html, subtype="html", charset="utf-8", cte="quoted-printable")
    return msg


# --- transports -----------------------------------------------------------------------


class MailTransport(ABC):
    """Hands finished messages over. One instance per run; :meth:`close` when done."""

    @abstractmethod
    def send(self, msg: EmailMessage, key: str) -> str | None:
        """Deliver ``msg`` (ledger key ``key``); return where it went (a file path) or ``None``.

        :raises SendError: with one sentence saying why.
        """

    @abstractmethod
    def delivered(self, key: str, message_id: str) -> bool | None:
        """After a crash: was the message of ``key`` delivered? ``None`` when unknowable."""

    def where(self, key: str) -> str | None:
        """Where the message of ``key`` would go (a file path), if the transport knows."""
        return None

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release connections."""


class FileTransport(MailTransport):
    """Writes each message as ``<key>.eml`` in the outbox folder, atomically.

    The file name is stable per ledger key, so a retry overwrites its own earlier file
    and a crash can be checked by looking for it.
    """

    def __init__(self, outbox: Path) -> None:
        self.outbox = outbox

    def path_for(self, key: str) -> Path:
        """The file for ``key``: a readable slug plus a short hash (slugs can collide)."""
        slug = re.sub(r"[^A-Za-z0-9@._-]+", "_", key).strip("._")[:120]
        digest = hashlib.sha256(key.encode()).hexdigest()[:8]
        return self.outbox / f"{slug}-{digest}.eml"

    def where(self, key: str) -> str | None:
        return str(self.path_for(key))

    def send(self, msg: EmailMessage, key: str) -> str | None:
        path = self.path_for(key)
        try:
            self.outbox.mkdir(parents=True, exist_ok=True)
            # Temp file then rename: the .eml exists only when complete (see delivered()).
            fd, tmp = tempfile.mkstemp(dir=self.outbox, prefix=".", suffix=".tmp")
            try:
                with os.fdopen(fd, "wb") as f:
                    f.write(msg.as_bytes())
                    f.flush()
                    os.fsync(f.fileno())
                Path(tmp).replace(path)
            except BaseException:
                Path(tmp).unlink(missing_ok=True)
                raise
        except OSError as e:
            raise SendError(f"cannot write {path} ({e.strerror or e}); check [email] outbox") from e
        return str(path)

    def delivered(self, key: str, message_id: str) -> bool | None:
        path = self.path_for(key)
        try:
            with path.open("rb") as f:
                headers = BytesHeaderParser().parse(f)
        except FileNotFoundError:
            return False
        return headers.get("Message-ID", "").strip() == message_id


class SmtpTransport(MailTransport):
    """Sends over one SMTP connection per run, opened on the first message.

    TLS: ``smtp_ssl`` (implicit TLS, usually port 465) or ``smtp_starttls`` (port 587);
    the server certificate is always verified, against the system's CAs (``SSL_CERT_FILE``
    adds a private CA) or against ``tls_context`` when a caller passes one. The login,
    when ``smtp_user`` is set, uses ``OKRSYNC_SMTP_PASSWORD``; the password is never
    logged or put in a message.
    """

    def __init__(self, config: EmailConfig, tls_context: ssl.SSLContext | None = None) -> None:
        self.config = config
        self.tls_context = tls_context
        self._smtp: smtplib.SMTP | None = None
        self._broken: str | None = None  # why connecting failed; later messages fail fast

    @property
    def _server(self) -> str:
        return f"{self.config.smtp_host}:{self.config.smtp_port}"

    def _context(self) -> ssl.SSLContext:
        return self.tls_context or ssl.create_default_context()

    def _connect(self) -> smtplib.SMTP:
        c = self.config
        if c.smtp_ssl:
            smtp: smtplib.SMTP = smtplib.SMTP_SSL(
                c.smtp_host, c.smtp_port, timeout=c.smtp_timeout, context=self._context()
            )
        else:
            smtp = smtplib.SMTP(c.smtp_host, c.smtp_port, timeout=c.smtp_timeout)
        try:
            smtp.ehlo()
            if c.smtp_starttls and not c.smtp_ssl:
                smtp.starttls(context=self._context())
                smtp.ehlo()
            if c.smtp_user:
                password = c.smtp_password()
                if not password:
                    raise SendError(
                        f"smtp_user is {c.smtp_user!r} but OKRSYNC_SMTP_PASSWORD is not set; "
                        "set it in the environment"
                    )
                smtp.login(c.smtp_user, password)
        except BaseException:
            with contextlib.suppress(OSError, smtplib.SMTPException):
                smtp.close()
            raise
        return smtp

    def send(self, msg: EmailMessage, key: str) -> str | None:
        if self._broken:
            raise SendError(self._broken)
        if self._smtp is None:
            try:
                self._smtp = self._connect()
            except SendError as e:
                self._broken = str(e)
                raise
            except (OSError, smtplib.SMTPException) as e:
                self._broken = self._explain(e)
                raise SendError(self._broken) from e
        try:
            refused = self._smtp.send_message(msg)
        except smtplib.SMTPRecipientsRefused as e:
            (addr, (code, text)), *_ = e.recipients.items()
            raise SendError(
                f"{self._server} refused recipient {addr} ({code} {_decode(text)})"
            ) from e
        except smtplib.SMTPResponseException as e:
            raise SendError(
                f"{self._server} refused the message ({e.smtp_code} {_decode(e.smtp_error)})"
            ) from e
        except (OSError, smtplib.SMTPException) as e:
            self._drop()  # the connection is in an unknown state; reconnect next time
            raise SendError(self._explain(e)) from e
        if refused:
            addr, (code, text) = next(iter(refused.items()))
            raise SendError(f"{self._server} refused recipient {addr} ({code} {_decode(text)})")
        return None

    def _explain(self, e: BaseException) -> str:
        c = self.config
        if isinstance(e, smtplib.SMTPAuthenticationError):
            return (
                f"{self._server} refused the login of {c.smtp_user!r} ({e.smtp_code}); "
                "check smtp_user and OKRSYNC_SMTP_PASSWORD"
            )
        if isinstance(e, smtplib.SMTPNotSupportedError):
            return (
                f"{self._server} does not offer STARTTLS; use smtp_ssl = true (port 465) "
                "or a server that supports it"
            )
        if isinstance(e, ssl.SSLCertVerificationError):
            return (
                f"the TLS certificate of {self._server} cannot be verified "
                f"({e.verify_message}); install its CA or set SSL_CERT_FILE"
            )
        if isinstance(e, ssl.SSLError):
            return f"TLS with {self._server} failed ({e.reason}); check smtp_ssl/smtp_starttls"
        if isinstance(e, TimeoutError | socket.timeout):
            return f"{self._server} did not answer within {c.smtp_timeout:g}s"
        if isinstance(e, OSError):
            return f"cannot connect to SMTP server {self._server} ({e.strerror or e})"
        return f"SMTP error with {self._server} ({e})"

    def delivered(self, key: str, message_id: str) -> bool | None:
        return None  # an SMTP server cannot be asked whether it accepted a message

    def _drop(self) -> None:
        if self._smtp is not None:
            with contextlib.suppress(OSError, smtplib.SMTPException):
                self._smtp.close()
            self._smtp = None

    def close(self) -> None:
        if self._smtp is not None:
            with contextlib.suppress(OSError, smtplib.SMTPException):
                self._smtp.quit()
        self._drop()


def _decode(text: bytes | str) -> str:
    return text.decode("utf-8", "replace") if isinstance(text, bytes) else str(text)


def open_transport(
    config: EmailConfig, *, tls_context: ssl.SSLContext | None = None
) -> MailTransport:
    """The transport ``[email] transport`` names. Nothing connects until the first send."""
    if config.transport == Transport.SMTP:
        return SmtpTransport(config, tls_context)
    return FileTransport(config.outbox)
