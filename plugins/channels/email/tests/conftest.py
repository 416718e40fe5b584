"""A real SMTP server on loopback for each email test, and what a send needs around it."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import httpx
import pytest

from motcua.notices.channel import Rendered, SendContext
from motcua_channel_email import EmailChannel, EmailSettings
from motcua_channel_email.standin import SmtpStandIn

PROVINCE = "thongbao@angiang.gov.vn"
CENTRE = "Trung tâm Phục vụ hành chính công An Giang"
CITIZEN = "nguoidan@example.vn"  # made up: no real person's address in tests
LOGIN_KEY = "mật-khẩu-thử"


class MemoryTokens:
    async def get(self, name: str) -> str | None:
        return None

    async def set(self, name: str, value: str) -> None:
        pass


@pytest.fixture
async def smtp() -> AsyncIterator[SmtpStandIn]:
    async with SmtpStandIn() as server:
        yield server


@pytest.fixture
async def smtp_with_auth() -> AsyncIterator[SmtpStandIn]:
    async with SmtpStandIn(username=PROVINCE, password=LOGIN_KEY) as server:
        yield server


@pytest.fixture
def settings_for() -> Callable[..., EmailSettings]:
    """EmailSettings pointing at a stand-in, as the province's table would, with overrides."""

    def settings(server: SmtpStandIn, **overrides: object) -> EmailSettings:
        table = server.channel_settings(from_address=PROVINCE, from_name=CENTRE, timeout=2)
        return EmailSettings(**(table | overrides))

    return settings


@pytest.fixture(scope="session")
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient() as client:
        yield client


@pytest.fixture
def context(http: httpx.AsyncClient) -> Callable[[str], SendContext]:
    return lambda notice_id: SendContext(
        http=http, idempotency_key=notice_id, tokens=MemoryTokens()
    )


@pytest.fixture
def channel() -> EmailChannel:
    return EmailChannel()


@pytest.fixture
def notice() -> Rendered:
    return Rendered(
        kind="result_ready",
        subject="Hồ sơ 000.00.12.H01-250904-0001 đã có kết quả",
        text=(
            "Kính gửi ông/bà,\n\n"
            "Hồ sơ 000.00.12.H01-250904-0001 đã có kết quả. Mời ông/bà đến nhận kết quả "
            "tại Trung tâm Phục vụ hành chính công.\n"
            "Tra cứu: https://dichvucong.angiang.gov.vn/tra-cuu?ma=000.00.12.H01-250904-0001&k=x"
        ),
        link="https://dichvucong.angiang.gov.vn/tra-cuu?ma=000.00.12.H01-250904-0001&k=x",
        unsubscribe_url="https://dichvucong.angiang.gov.vn/huy-dang-ky/abc",
    )


@pytest.fixture(scope="session")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, str]:
    """A self-signed certificate for 127.0.0.1, made by the openssl command (the
    `cryptography` package is not a dependency); TLS tests are skipped without it."""
    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.skip("the openssl command is needed to make a test certificate")
    folder: Path = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        [openssl, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
         "-nodes", "-keyout", str(key), "-out", str(cert), "-days", "2",
         "-subj", "/CN=localhost", "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost"],
        check=True,
        capture_output=True,
    )  # fmt: skip
    return str(cert), str(key)
