"""The email channel: notices over SMTP, through the mail server the province already runs
for its public-service centre."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from email.headerregistry import Address as MailAddress

import aiosmtplib

from motcua.notices.channel import (
    Address,
    Capabilities,
    Channel,
    DeliveryFailure,
    FailureKind,
    Rendered,
    SendContext,
    Sent,
)
from motcua_channel_email.errors import failure_from
from motcua_channel_email.message import compose, mailbox
from motcua_channel_email.settings import EmailSettings

__all__ = ["EmailChannel", "EmailSettings"]


class EmailChannel(Channel):
    name = "email"
    settings_type = EmailSettings
    capabilities = Capabilities(max_chars=100_000)

    def reaches(self, to: Address) -> bool:
        return bool(to.email)

    def account(self, settings: EmailSettings) -> str:
        return f"{settings.username}@{settings.host}:{settings.port}"  # the mailbox sending

    async def send(
        self, message: Rendered, to: Address, settings: EmailSettings, ctx: SendContext
    ) -> Sent:
        try:
            recipient = mailbox(to.email or "")
        except ValueError:
            raise DeliveryFailure(FailureKind.PERMANENT, "invalid-address") from None
        mail = compose(message, _sender(settings), recipient, ctx.idempotency_key)
        async with _connection(settings) as smtp:
            await smtp.send_message(
                mail, sender=settings.from_address, recipients=[recipient.addr_spec]
            )
        return Sent(provider_id=str(mail["Message-ID"]), provider=settings.host)

    async def check_settings(self, settings: EmailSettings, ctx: SendContext) -> None:
        _sender(settings)
        async with _connection(settings):
            pass  # connecting upgrades to TLS and logs in, as a send would


def _sender(settings: EmailSettings) -> MailAddress:
    try:
        return mailbox(settings.from_address, settings.from_name)
    except ValueError:
        raise DeliveryFailure(FailureKind.CONFIGURATION, "bad-sender", "from_address") from None


@contextlib.asynccontextmanager
async def _connection(settings: EmailSettings) -> AsyncIterator[aiosmtplib.SMTP]:
    """A connection ready to send (TLS as configured, logged in); SMTP errors inside
    become DeliveryFailure."""
    smtp = aiosmtplib.SMTP(
        hostname=settings.host,
        port=settings.port,
        timeout=settings.timeout,
        use_tls=settings.security == "tls",
        start_tls=settings.security == "starttls",
        username=settings.username or None,
        password=settings.password if settings.username else None,
    )
    try:
        await smtp.connect()
        yield smtp
        # The server has answered for the message already: a failed QUIT changes nothing.
        with contextlib.suppress(aiosmtplib.SMTPException, OSError):
            await smtp.quit()
    except (aiosmtplib.SMTPException, OSError) as exc:
        raise failure_from(exc) from exc
    finally:
        smtp.close()
