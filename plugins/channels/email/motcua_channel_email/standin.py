"""A mail server on loopback for tests and drills: aiosmtpd's SMTP, in the running event
loop, on a free port of 127.0.0.1, recording every message it accepts.

    smtp = SmtpStandIn(username="thongbao@angiang.gov.vn", password="mật-khẩu")
    await smtp.start()                           # listening when it returns
    settings = smtp.channel_settings(from_address="thongbao@angiang.gov.vn")
    ...                                          # send notices
    [mail] = await smtp.wait_for(1)              # ReceivedMail, parsed
    mail.subject, mail.text, mail.html, mail.message["Message-ID"], mail.rcpt_tos
    await smtp.stop()

Security: `security="none"` (plain), `"starttls"` (plain, STARTTLS required before
anything else) or `"tls"` (TLS from the first byte); the last two need `certificate`, a
(certfile, keyfile) pair. With `username`/`password`, AUTH PLAIN/LOGIN is offered even
without TLS (loopback) and MAIL is refused with 530 until the client has logged in.

Scripting, checked at RCPT TO: `reject(address, code)` refuses one recipient for good;
`fail_next(n, code)` refuses the next n recipients (451 by default, or any code);
`fail_randomly(fraction, seed=…)` refuses a seeded random share with 451.
`await go_down()` stops listening (connections are refused), `await come_up()` listens
again on the same port. `reset()` forgets what was received and every script.
"""

from __future__ import annotations

import asyncio
import email
import email.policy
import random
import ssl
from collections import deque
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Any, Literal, cast

from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session


@dataclass(frozen=True)
class ReceivedMail:
    """A message the stand-in accepted, with its envelope."""

    message: EmailMessage  # parsed with email.policy.default: headers read back decoded
    raw: bytes  # as it came over the wire, encoded headers and all
    mail_from: str
    rcpt_tos: list[str]
    authenticated_as: str | None  # the AUTH login, when the client logged in
    tls: bool  # whether the message travelled over TLS (STARTTLS or implicit)

    @property
    def subject(self) -> str:
        return str(self.message["Subject"])

    @property
    def text(self) -> str:
        """The text/plain part, decoded."""
        part = self.message.get_body(("plain",))
        return "" if part is None else str(cast(EmailMessage, part).get_content())

    @property
    def html(self) -> str | None:
        """The text/html part, decoded; None when there is none."""
        part = self.message.get_body(("html",))
        return None if part is None else str(cast(EmailMessage, part).get_content())


class SmtpStandIn:
    """An SMTP server on 127.0.0.1 that records what it receives."""

    host = "127.0.0.1"

    def __init__(
        self,
        *,
        username: str | None = None,
        password: str | None = None,
        security: Literal["none", "starttls", "tls"] = "none",
        certificate: tuple[str, str] | None = None,
        smtputf8: bool = True,
    ) -> None:
        if security != "none" and certificate is None:
            raise ValueError(f"security={security!r} needs a (certfile, keyfile) certificate")
        self.username = username
        self.password = password
        self.security = security
        self.smtputf8 = smtputf8
        self.port = 0  # a free one is chosen at start() and kept across go_down/come_up
        self.received: list[ReceivedMail] = []
        self._tls: ssl.SSLContext | None = None
        if certificate is not None:
            self._tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            self._tls.load_cert_chain(*certificate)
        self._rejected: dict[str, str] = {}
        self._scripted: deque[str] = deque()
        self._failure_rate = 0.0
        self._random = random.Random(0)  # noqa: S311 - drills need repeatable, not secure
        self._arrival = asyncio.Event()
        self._server: asyncio.Server | None = None

    def channel_settings(self, **table: Any) -> dict[str, Any]:
        """A `[channels.email]` table pointing at this server; `table` adds to or
        overrides it (from_address is needed)."""
        settings: dict[str, Any] = {"host": self.host, "port": self.port}
        settings["security"] = self.security
        if self.username is not None:
            settings |= {"username": self.username, "password": self.password or ""}
        return settings | table

    async def start(self) -> None:
        """Listen on a free port (or the port kept from before); returns once listening."""
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(
            self._protocol,
            self.host,
            self.port,
            ssl=self._tls if self.security == "tls" else None,
        )
        self.port = self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        """Stop listening."""
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None

    async def go_down(self) -> None:
        """Refuse connections, as a crashed or unreachable server would."""
        await self.stop()

    async def come_up(self) -> None:
        """Accept connections again, on the same port."""
        await self.start()

    async def __aenter__(self) -> SmtpStandIn:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    def reject(
        self, recipient: str, code: int = 550, text: str = "5.1.1 Mailbox unavailable"
    ) -> None:
        """Refuse `recipient` at RCPT TO, every time, with `code`."""
        self._rejected[recipient.lower()] = f"{code} {text}"

    def fail_next(self, n: int, code: int = 451, text: str = "4.3.0 Try again later") -> None:
        """Refuse the next n recipients, whoever they are, with `code`."""
        self._scripted.extend([f"{code} {text}"] * n)

    def fail_randomly(self, fraction: float, *, seed: int = 0) -> None:
        """Refuse `fraction` of the recipients with 451, drawn from a generator seeded `seed`."""
        self._failure_rate = fraction
        self._random = random.Random(seed)  # noqa: S311 - drills need repeatable, not secure

    def reset(self) -> None:
        """Forget what was received and every script; credentials and security stay."""
        self.received.clear()
        self._rejected.clear()
        self._scripted.clear()
        self._failure_rate = 0.0

    async def wait_for(
        self,
        count: int = 1,
        timeout: float = 5.0,  # noqa: ASYNC109 - a bounded wait is what this helper is for
    ) -> list[ReceivedMail]:
        """The first `count` messages received, waiting up to `timeout` seconds for them."""
        async with asyncio.timeout(timeout):
            while len(self.received) < count:
                self._arrival.clear()
                await self._arrival.wait()
        return self.received[:count]

    def _protocol(self) -> SMTP:
        return SMTP(
            _Handler(self),
            hostname="smtp.standin.invalid",  # never socket.getfqdn(): it may wait on DNS
            tls_context=self._tls if self.security == "starttls" else None,
            require_starttls=self.security == "starttls",
            authenticator=self._authenticate if self.username is not None else None,
            auth_require_tls=False,  # plain AUTH on loopback; TLS is tested on its own
            enable_SMTPUTF8=self.smtputf8,
            loop=asyncio.get_running_loop(),
        )

    def _authenticate(
        self, server: SMTP, session: Session, envelope: Envelope, mechanism: str, data: Any
    ) -> AuthResult:
        # handled=False: aiosmtpd answers a refusal itself, 535 5.7.8.
        if not isinstance(data, LoginPassword):
            return AuthResult(success=False, handled=False)
        login = data.login.decode("utf-8", "replace")
        password = data.password.decode("utf-8", "replace")
        if login == self.username and password == (self.password or ""):
            return AuthResult(success=True, auth_data=login)
        return AuthResult(success=False, handled=False)

    def _refusal(self, recipient: str) -> str | None:
        if refusal := self._rejected.get(recipient.lower()):
            return refusal
        if self._scripted:
            return self._scripted.popleft()
        if self._failure_rate and self._random.random() < self._failure_rate:
            return "451 4.3.0 Try again later"
        return None

    def _record(self, mail: ReceivedMail) -> None:
        self.received.append(mail)
        self._arrival.set()


class _Handler:
    """aiosmtpd's hooks, kept apart: aiosmtpd treats every handle_*/auth_* name as one."""

    def __init__(self, standin: SmtpStandIn) -> None:
        self.standin = standin

    async def handle_MAIL(
        self,
        server: SMTP,
        session: Session,
        envelope: Envelope,
        address: str,
        mail_options: list[str],
    ) -> str:
        if self.standin.username is not None and not session.authenticated:
            return "530 5.7.0 Authentication required"
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"

    async def handle_RCPT(
        self,
        server: SMTP,
        session: Session,
        envelope: Envelope,
        address: str,
        rcpt_options: list[str],
    ) -> str:
        if refusal := self.standin._refusal(address):
            return refusal
        envelope.rcpt_tos.append(address)
        envelope.rcpt_options.extend(rcpt_options)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        raw = envelope.original_content or b""
        # Parsed with \n line ends, as a mail client shows it; `raw` keeps the wire's CRLF.
        message = email.message_from_bytes(raw.replace(b"\r\n", b"\n"), policy=email.policy.default)
        transport = server.transport
        self.standin._record(
            ReceivedMail(
                message=message,
                raw=raw,
                mail_from=envelope.mail_from or "",
                rcpt_tos=list(envelope.rcpt_tos),
                authenticated_as=session.auth_data if session.authenticated else None,
                tls=transport is not None and transport.get_extra_info("sslcontext") is not None,
            )
        )
        return f"250 2.0.0 OK: queued as {len(self.standin.received)}"
