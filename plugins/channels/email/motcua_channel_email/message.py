"""The email a notice becomes: multipart/alternative, UTF-8, headers mail clients and
mailbox providers expect from a public service (sender name, Message-ID, unsubscribe)."""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime
from email.headerregistry import Address as MailAddress
from email.message import EmailMessage
from email.utils import format_datetime

from motcua.notices.channel import Rendered

# What RFC 5322 allows in the left part of a Message-ID (dot-atom text).
_NOT_ATEXT = re.compile(r"[^A-Za-z0-9!#$%&'*+\-/=?^_`{|}~.]")


def mailbox(address: str, display_name: str = "") -> MailAddress:
    """A parsed address; ValueError when it is not one (or would smuggle in a header)."""
    local, at, domain = address.strip().rpartition("@")
    if not (local and at and domain) or any(c.isspace() for c in address.strip()):
        raise ValueError("not an email address")
    return MailAddress(display_name=display_name, addr_spec=address.strip())


def message_id(notice_id: str, sender: MailAddress) -> str:
    """The same notice always gets the same Message-ID, so a resend is recognisable."""
    return f"<{_NOT_ATEXT.sub('-', notice_id)}@{sender.domain}>"


def compose(
    message: Rendered, sender: MailAddress, recipient: MailAddress, notice_id: str
) -> EmailMessage:
    mail = EmailMessage()
    mail["Subject"] = _one_line(message.subject) or _one_line(message.text)[:120]
    mail["From"] = sender  # the policy encodes a Vietnamese name as RFC 2047 words
    mail["To"] = recipient
    mail["Date"] = format_datetime(datetime.now(UTC))
    mail["Message-ID"] = message_id(notice_id, sender)
    mail["Auto-Submitted"] = "auto-generated"  # RFC 3834: no vacation replies to a notice
    if message.unsubscribe_url:
        mail["List-Unsubscribe"] = f"<{message.unsubscribe_url}>"
        mail["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"  # RFC 8058

    # Quoted-printable keeps every part 7-bit, so any relay carries it intact.
    mail.set_content(message.text, subtype="plain", charset="utf-8", cte="quoted-printable")
    mail.add_alternative(
        message.html if message.html is not None else html_from_text(message.text, message.link),
        subtype="html",
        charset="utf-8",
        cte="quoted-printable",
    )
    return mail


def html_from_text(text: str, link: str | None = None) -> str:
    """Minimal HTML for a notice that has only text: paragraphs, line breaks, the link."""
    paragraphs = []
    for block in re.split(r"\n\s*\n", text.strip()):
        escaped = html.escape(block).replace("\n", "<br>\n")
        if link:
            escaped = escaped.replace(html.escape(link), _anchor(link))
        paragraphs.append(f"<p>{escaped}</p>")
    body = "\n".join(paragraphs)
    return (
        '<!DOCTYPE html>\n<html lang="vi">\n<head><meta charset="utf-8"></head>\n'
        f"<body>\n{body}\n</body>\n</html>\n"
    )


def _anchor(link: str) -> str:
    escaped = html.escape(link)
    return f'<a href="{escaped}">{escaped}</a>'


def _one_line(text: str) -> str:
    return " ".join(text.split())
