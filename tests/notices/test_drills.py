"""Drills against the providers' stand-ins, real servers on loopback: failures, failover,
outages and a killed worker. Every notice reaches the citizen exactly once."""

import os
import secrets
import signal
import subprocess
import sys
from collections import Counter

import pytest
from arq import create_pool
from arq.connections import RedisSettings
from sqlalchemy import func, select

from motcua.notices.jobs import relay_notices
from motcua.notices.models import Notice
from motcua.worker import build_worker
from motcua_channel_email.standin import SmtpStandIn
from motcua_channel_sms.standin import EsmsStandIn, SpeedSmsStandIn
from motcua_channel_zalo.standin import ZaloStandIn
from tests.notices.conftest import settle

SECRET_NAMES = ("secret", "token", "password", "api_key")


def env_refs(prefix, settings, monkeypatch):
    """Channel settings as a pack writes them: every secret an env:VAR reference."""

    def walk(value, path):
        if isinstance(value, dict):
            return {k: walk(v, f"{path}_{k}") for k, v in value.items()}
        if isinstance(value, list):
            return [walk(v, f"{path}_{i}") for i, v in enumerate(value)]
        if isinstance(value, str) and any(n in path.lower() for n in SECRET_NAMES):
            name = f"{prefix}{path}".upper().replace("-", "_")
            monkeypatch.setenv(name, value)
            return f"env:{name}"
        return value

    return walk(settings, "")


@pytest.fixture
async def zalo():
    async with ZaloStandIn() as standin:
        yield standin


@pytest.fixture
async def esms():
    async with EsmsStandIn(brandnames=["UBND TT"]) as standin:
        yield standin


@pytest.fixture
async def speedsms():
    async with SpeedSmsStandIn(api_key="speed-key", brandnames=["UBND TT"]) as standin:
        yield standin


def sms_settings(esms, speedsms=None):
    providers = [
        {
            "kind": "esms",
            "api_base": esms.base_url,
            "api_key": esms.api_key,
            "secret_key": esms.secret_key,
            "brandname": "UBND TT",
            "weight": 100,
        }
    ]
    if speedsms is not None:
        providers.append(
            {
                "kind": "speedsms",
                "api_base": speedsms.base_url,
                "api_key": "speed-key",
                "brandname": "UBND TT",
                "weight": 1,
            }
        )
    return {"providers": providers, "callback_token": secrets.token_hex(8)}


async def test_a_permanent_zalo_failure_falls_over_to_sms(office, worker, zalo, esms, monkeypatch):
    tag = secrets.token_hex(3)
    desk = await office(
        ["zalo", "sms"],
        {
            "zalo": env_refs(
                f"z{tag}", zalo.settings(zns_templates={"received": "tpl-1"}), monkeypatch
            ),
            "sms": env_refs(f"s{tag}", sms_settings(esms), monkeypatch),
        },
    )
    zalo.fail_next(-118)  # no Zalo account for this phone
    dossier = await desk.intake()

    async def over():
        [notice] = await desk.notices(dossier["code"])
        assert notice["status"] == "sent", notice
        return notice

    notice = await settle(over)
    assert [(a["channel"], a["outcome"], a["provider_code"]) for a in notice["attempts"]] == [
        ("zalo", "permanent", "-118"),
        ("sms", "sent", ""),
    ]
    [sms] = esms.received
    assert sms.phone == "0912345678" and sms.request_id == notice["id"]
    assert dossier["code"] in sms.text and "đã tiếp nhận hồ sơ" in sms.text
    assert zalo.received == []


async def test_zns_carries_the_template_and_the_notice_id(office, worker, zalo, monkeypatch):
    tag = secrets.token_hex(3)
    desk = await office(
        ["zalo"],
        {
            "zalo": env_refs(
                f"z{tag}", zalo.settings(zns_templates={"received": "tpl-received"}), monkeypatch
            )
        },
    )
    dossier = await desk.intake()
    [message] = await zalo.received(count=1, timeout=5)
    [notice] = await desk.notices(dossier["code"])
    assert message.phone == "84912345678" and message.template_id == "tpl-received"
    assert message.tracking_id == notice["id"]
    assert message.template_data["code"] == dossier["code"]


async def test_the_sms_provider_down_moves_traffic_to_the_second(
    office, worker, esms, speedsms, monkeypatch
):
    tag = secrets.token_hex(3)
    desk = await office(
        ["sms"], {"sms": env_refs(f"s{tag}", sms_settings(esms, speedsms), monkeypatch)}
    )
    await esms.go_down()
    codes = [(await desk.intake())["code"] for _ in range(3)]

    async def all_sent():
        for code in codes:
            [notice] = await desk.notices(code)
            assert notice["status"] == "sent", notice

    await settle(all_sent)
    assert len(speedsms.received) == 3 and esms.received == []
    assert {m.phone for m in speedsms.received} == {"84912345678"}


async def test_thirty_percent_temporary_failures_still_deliver_each_notice_once(
    office, worker, zalo, monkeypatch
):
    tag = secrets.token_hex(3)
    desk = await office(
        ["zalo"],
        {
            "zalo": env_refs(
                f"z{tag}", zalo.settings(zns_templates={"received": "tpl"}), monkeypatch
            )
        },
    )
    zalo.fail_randomly(0.3, seed=11)
    codes = [(await desk.intake())["code"] for _ in range(20)]

    async def all_sent():
        statuses = [n["status"] for code in codes for n in await desk.notices(code)]
        assert statuses == ["sent"] * 20, Counter(statuses)

    await settle(all_sent, timeout=20)
    per_notice = Counter(m.tracking_id for m in zalo.received)
    assert len(per_notice) == 20 and set(per_notice.values()) == {1}


async def test_email_reaches_a_real_smtp_server_with_both_parts(office, worker, monkeypatch):
    async with SmtpStandIn() as smtp:
        tag = secrets.token_hex(3)
        desk = await office(
            ["email"],
            {
                "email": env_refs(
                    f"e{tag}",
                    smtp.channel_settings(
                        from_name="Trung tâm Phục vụ hành chính công tỉnh Thử",
                        from_address="thongbao@tinhthu.gov.vn",
                    ),
                    monkeypatch,
                )
            },
        )
        dossier = await desk.intake(phone=None, email="binh@example.vn")
        [mail] = await smtp.wait_for(1, timeout=5)
    assert mail.rcpt_tos == ["binh@example.vn"]
    assert mail.subject == f"Đã tiếp nhận hồ sơ {dossier['code']}"
    assert "đã tiếp nhận hồ sơ" in mail.text and dossier["tracking_url"] in mail.html
    assert "Trung tâm Phục vụ hành chính công" in str(mail.message["From"])


async def test_redis_down_while_dossiers_change_loses_nothing(
    office, settings, db, esms, monkeypatch, app
):
    tag = secrets.token_hex(3)
    desk = await office(["sms"], {"sms": env_refs(f"s{tag}", sms_settings(esms), monkeypatch)})
    queue = app.state.services.queue
    broken = await _unreachable_redis(settings)
    app.state.services.queue = broken  # the commit happens; queueing fails
    try:
        codes = [(await desk.intake())["code"] for _ in range(3)]
    finally:
        app.state.services.queue = queue
        await broken.aclose()
    async with db.tenant_session(desk.province.id) as session:
        waiting = await session.scalar(
            select(func.count()).select_from(Notice).where(Notice.status == "created")
        )
    assert waiting == 3
    # Redis is back: the relay finds them, a worker sends them.
    await relay_notices({"db": db, "redis": queue, "settings": settings})
    running = build_worker(settings, handle_signals=False)
    running.cron_jobs, running.burst = [], True
    await running.main()
    await running.close()
    for code in codes:
        [notice] = await desk.notices(code)
        assert notice["status"] == "sent"
    assert len(esms.received) == 3


async def _unreachable_redis(settings):
    pool = await create_pool(
        RedisSettings(host="127.0.0.1", port=6379), default_queue_name=settings.queue_name
    )
    # Point the pool at a closed port: every command fails as if Redis were down.
    pool.connection_pool.connection_kwargs["port"] = 1
    await pool.connection_pool.disconnect()
    return pool


async def test_a_worker_killed_mid_batch_loses_nothing_and_sends_nothing_twice(
    office, settings, esms, monkeypatch
):
    tag = secrets.token_hex(3)
    desk = await office(["sms"], {"sms": env_refs(f"s{tag}", sms_settings(esms), monkeypatch)})
    esms.slow_down(0.05)  # a batch in flight when the worker dies
    env = {k: v for k, v in os.environ.items() if not k.startswith("MOTCUA_")} | {
        k: v for k, v in os.environ.items() if k.startswith(f"S{tag}".upper())
    }
    env |= {
        "MOTCUA_DATABASE_URL": settings.database_url,
        "MOTCUA_REDIS_URL": settings.redis_url,
        "MOTCUA_QUEUE_NAME": settings.queue_name,
        "MOTCUA_LOG_LEVEL": "WARNING",
        "MOTCUA_SECRET_KEYS": ",".join(settings.secret_keys),
        "MOTCUA_NOTICE_STUCK_SECONDS": "2",
    }

    def start_worker():
        return subprocess.Popen(
            [sys.executable, "-m", "motcua.cli", "worker"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

    codes = [(await desk.intake())["code"] for _ in range(30)]
    first = start_worker()
    await settle(_some_sent(esms, 5), timeout=30)
    first.send_signal(signal.SIGKILL)
    first.wait(10)
    second = start_worker()
    try:

        async def all_sent():
            statuses = [n["status"] for code in codes for n in await desk.notices(code)]
            assert statuses == ["sent"] * 30, Counter(statuses)

        await settle(all_sent, timeout=40)
    finally:
        second.send_signal(signal.SIGINT)
        second.wait(20)
    accepted = Counter(m.request_id for m in esms.received)
    assert len(accepted) == 30 and set(accepted.values()) == {1}


def _some_sent(standin, count):
    async def check():
        assert len(standin.received) >= count

    return check
