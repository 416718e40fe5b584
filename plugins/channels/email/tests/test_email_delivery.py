"""A notice reaches a real SMTP server on loopback as a well-formed Vietnamese email."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from motcua.notices.channel import (
    Address,
    DeliveryFailure,
    FailureKind,
    Rendered,
    SendContext,
    discover,
    resolve_settings,
    secret_fields,
)
from motcua_channel_email import EmailChannel, EmailSettings
from motcua_channel_email.standin import SmtpStandIn

Context = Callable[[str], SendContext]
Settings = Callable[..., EmailSettings]
PROVINCE = "thongbao@angiang.gov.vn"
CENTRE = "Trung tâm Phục vụ hành chính công An Giang"
CITIZEN = Address(email="nguoidan@example.vn", phone="+84912345678")


async def test_a_notice_arrives_with_a_text_part_and_an_html_part_in_utf8(
    channel: EmailChannel,
    smtp: SmtpStandIn,
    settings_for: Settings,
    notice: Rendered,
    context: Context,
) -> None:
    await channel.send(notice, CITIZEN, settings_for(smtp), context("notice-0001"))

    [mail] = await smtp.wait_for(1)
    assert mail.message.get_content_type() == "multipart/alternative"
    plain, html = mail.message.iter_parts()
    assert plain.get_content_type() == "text/plain" and plain.get_content_charset() == "utf-8"
    assert html.get_content_type() == "text/html" and html.get_content_charset() == "utf-8"
    assert mail.text.rstrip("\n") == notice.text
    assert mail.html is not None and "Mời ông/bà đến nhận kết quả" in mail.html
    assert mail.message["Date"] is not None


async def test_the_sender_name_and_subject_keep_every_diacritic_and_travel_encoded(
    channel: EmailChannel,
    smtp: SmtpStandIn,
    settings_for: Settings,
    notice: Rendered,
    context: Context,
) -> None:
    await channel.send(notice, CITIZEN, settings_for(smtp), context("notice-0002"))

    [mail] = await smtp.wait_for(1)
    headers = mail.raw.split(b"\r\n\r\n", 1)[0]
    assert headers.isascii()  # RFC 2047 words: any server and client can carry them
    assert mail.subject == "Hồ sơ 000.00.12.H01-250904-0001 đã có kết quả"
    assert mail.message["From"].addresses[0].display_name == CENTRE
    assert mail.message["From"].addresses[0].addr_spec == PROVINCE
    assert mail.message["To"].addresses[0].addr_spec == "nguoidan@example.vn"


async def test_the_message_id_comes_from_the_notice_id_so_a_resend_is_recognisable(
    channel: EmailChannel,
    smtp: SmtpStandIn,
    settings_for: Settings,
    notice: Rendered,
    context: Context,
) -> None:
    settings = settings_for(smtp)

    first = await channel.send(notice, CITIZEN, settings, context("0192b1c4-7e1a-7c3d"))
    again = await channel.send(notice, CITIZEN, settings, context("0192b1c4-7e1a-7c3d"))

    sent = await smtp.wait_for(2)
    assert [m.message["Message-ID"] for m in sent] == ["<0192b1c4-7e1a-7c3d@angiang.gov.vn>"] * 2
    assert first.provider_id == again.provider_id == "<0192b1c4-7e1a-7c3d@angiang.gov.vn>"


async def test_a_one_click_unsubscribe_is_offered_when_the_notice_has_a_link_for_it(
    channel: EmailChannel,
    smtp: SmtpStandIn,
    settings_for: Settings,
    notice: Rendered,
    context: Context,
) -> None:
    without = Rendered(kind=notice.kind, subject=notice.subject, text=notice.text)

    await channel.send(notice, CITIZEN, settings_for(smtp), context("notice-0003"))
    await channel.send(without, CITIZEN, settings_for(smtp), context("notice-0004"))

    with_link, no_link = await smtp.wait_for(2)
    assert with_link.message["List-Unsubscribe"] == (
        "<https://dichvucong.angiang.gov.vn/huy-dang-ky/abc>"
    )
    assert with_link.message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert no_link.message["List-Unsubscribe"] is None
    assert no_link.message["List-Unsubscribe-Post"] is None


async def test_html_from_the_template_is_sent_as_given(
    channel: EmailChannel, smtp: SmtpStandIn, settings_for: Settings, context: Context
) -> None:
    page = "<html><body><h1>Hồ sơ đã có kết quả</h1></body></html>"
    notice = Rendered(kind="result_ready", subject="Kết quả", text="Hồ sơ đã có kết quả", html=page)

    await channel.send(notice, CITIZEN, settings_for(smtp), context("notice-0005"))

    [mail] = await smtp.wait_for(1)
    assert mail.html is not None and mail.html.rstrip("\n") == page
    assert mail.text.rstrip("\n") == "Hồ sơ đã có kết quả"


async def test_generated_html_escapes_the_text_and_makes_the_tracking_link_clickable(
    channel: EmailChannel, smtp: SmtpStandIn, settings_for: Settings, context: Context
) -> None:
    link = "https://dichvucong.angiang.gov.vn/tra-cuu?ma=H01-0001&k=x"
    notice = Rendered(
        kind="comment",
        subject="Phản hồi",
        text=f"Ý kiến: <script>alert(1)</script> & cảm ơn\nTra cứu: {link}",
        link=link,
    )

    await channel.send(notice, CITIZEN, settings_for(smtp), context("notice-0006"))

    [mail] = await smtp.wait_for(1)
    assert mail.html is not None
    assert "<script>" not in mail.html
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; cảm ơn<br>" in mail.html
    assert '<a href="https://dichvucong.angiang.gov.vn/tra-cuu?ma=H01-0001&amp;k=x">' in mail.html


async def test_the_envelope_goes_from_the_province_to_the_citizen_only(
    channel: EmailChannel,
    smtp: SmtpStandIn,
    settings_for: Settings,
    notice: Rendered,
    context: Context,
) -> None:
    await channel.send(notice, CITIZEN, settings_for(smtp), context("notice-0007"))

    [mail] = await smtp.wait_for(1)
    assert mail.mail_from == PROVINCE
    assert mail.rcpt_tos == ["nguoidan@example.vn"]
    assert mail.message["Auto-Submitted"] == "auto-generated"


async def test_a_notice_without_a_subject_takes_its_first_words(
    channel: EmailChannel, smtp: SmtpStandIn, settings_for: Settings, context: Context
) -> None:
    notice = Rendered(kind="reminder", text="Hồ sơ của ông/bà\nsắp đến hạn bổ sung.")

    await channel.send(notice, CITIZEN, settings_for(smtp), context("notice-0008"))

    [mail] = await smtp.wait_for(1)
    assert mail.subject == "Hồ sơ của ông/bà sắp đến hạn bổ sung."


@pytest.mark.parametrize(
    "email", ["", "khong-phai-email", "a b@example.vn", "a@example.vn\r\nBcc: x@y"]
)
async def test_an_address_that_is_not_an_email_fails_permanently_before_any_connection(
    channel: EmailChannel,
    smtp: SmtpStandIn,
    settings_for: Settings,
    notice: Rendered,
    context: Context,
    email: str,
) -> None:
    await smtp.go_down()  # nothing may be attempted

    with pytest.raises(DeliveryFailure) as failure:
        await channel.send(notice, Address(email=email), settings_for(smtp), context("n-1"))

    assert (failure.value.kind, failure.value.code) == (FailureKind.PERMANENT, "invalid-address")


def test_only_citizens_with_an_email_address_are_reached(channel: EmailChannel) -> None:
    assert channel.reaches(Address(email="nguoidan@example.vn"))
    assert not channel.reaches(Address(phone="+84912345678"))
    assert not channel.reaches(Address(email=""))


def test_the_plugin_is_found_by_its_entry_point() -> None:
    assert discover()["email"] is EmailChannel


def test_the_tenant_toml_table_reads_the_password_from_the_environment() -> None:
    table = {
        "host": "smtp.angiang.gov.vn",
        "username": PROVINCE,
        "password": "env:AG_SMTP_PASSWORD",
        "from_address": PROVINCE,
        "from_name": CENTRE,
    }
    login_key = "mật-khẩu-của-tỉnh"

    settings = resolve_settings(EmailChannel, table, {"AG_SMTP_PASSWORD": login_key})

    assert settings.password == login_key
    assert (settings.port, settings.security, settings.timeout) == (587, "starttls", 10)
    assert secret_fields(EmailSettings) == {"password"}


@pytest.mark.parametrize("wrong", [{"security": "ssl"}, {"smtp_host": "x"}, {"port": "cổng"}])
def test_a_wrong_table_is_a_configuration_failure(wrong: dict[str, str]) -> None:
    table = {"host": "smtp.angiang.gov.vn", "from_address": PROVINCE} | wrong

    with pytest.raises(DeliveryFailure) as failure:
        resolve_settings(EmailChannel, table, {})

    assert failure.value.kind == FailureKind.CONFIGURATION
