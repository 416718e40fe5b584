"""Limits shared by every worker: rate and daily cap per province and channel, quiet hours."""

import datetime as dt
import uuid
from collections import Counter

from motcua.notices.connections import ProviderConnections
from motcua.notices.limits import end_of_quiet_hours, over_daily_cap, waits_for_rate

TZ = "Asia/Ho_Chi_Minh"


def local(text):
    return dt.datetime.fromisoformat(text + "+07:00")


async def test_a_rate_admits_so_many_a_second_and_spreads_the_rest(app):
    redis, tenant = app.state.services.queue, uuid.uuid4()
    now = local("2026-11-27T10:00:00.200")
    waits = [(await waits_for_rate(redis, f"{tenant}:sms", 3, now))[0] for _ in range(7)]
    assert waits[:3] == [0, 0, 0]
    assert [round(w, 1) for w in waits[3:]] == [0.8, 0.8, 0.8, 1.8]
    other = await waits_for_rate(redis, f"{uuid.uuid4()}:sms", 3, now)
    assert other == [0]  # another province has its own budget


async def test_a_batch_counted_at_once_gets_the_places_one_by_one_would(app):
    redis, tenant = app.state.services.queue, uuid.uuid4()
    now = local("2026-11-27T10:00:00.200")
    first = await waits_for_rate(redis, f"{tenant}:sms", 3, now, sends=2)
    rest = await waits_for_rate(redis, f"{tenant}:sms", 3, now, sends=5)
    assert first == [0, 0]
    assert [round(w, 1) for w in rest] == [0, 0.8, 0.8, 0.8, 1.8]


async def test_a_daily_cap_counts_per_local_day(app):
    redis, tenant = app.state.services.queue, uuid.uuid4()
    day = dt.date(2026, 11, 27)
    assert [(await over_daily_cap(redis, tenant, "zalo", 2, day))[0] for _ in range(3)] == [
        False,
        False,
        True,
    ]
    assert await over_daily_cap(redis, tenant, "zalo", 2, day + dt.timedelta(days=1)) == [False]
    assert await over_daily_cap(redis, tenant, "sms", 2, day, sends=3) == [False, False, True]


def test_quiet_hours_across_midnight():
    hours = "21:00-07:00"
    assert end_of_quiet_hours(hours, TZ, local("2026-11-27T20:59")) is None
    assert end_of_quiet_hours(hours, TZ, local("2026-11-27T21:30")) == local("2026-11-28T07:00")
    assert end_of_quiet_hours(hours, TZ, local("2026-11-28T03:00")) == local("2026-11-28T07:00")
    assert end_of_quiet_hours(hours, TZ, local("2026-11-28T07:00")) is None
    assert end_of_quiet_hours("", TZ, local("2026-11-28T03:00")) is None
    assert end_of_quiet_hours("12:00-13:00", TZ, local("2026-11-28T12:30")) == local(
        "2026-11-28T13:00"
    )


async def test_a_province_rate_holds_notices_back_without_losing_them(office, worker):
    desk = await office(["console"], {"console": {}, "limits": {"console": {"per_second": 2}}})
    codes = [(await desk.intake())["code"] for _ in range(6)]
    from tests.notices.conftest import settle

    async def all_sent():
        notices = [n for code in codes for n in await desk.notices(code)]
        assert [n["status"] for n in notices] == ["sent"] * 6
        return notices

    # The session's one worker may still be working through earlier tests' jobs.
    notices = await settle(all_sent, timeout=40)
    assert all(len(n["attempts"]) == 1 for n in notices)  # held back is not an attempt
    moments = [dt.datetime.fromisoformat(n["sent_at"]) for n in notices]
    # Two a second: the last two are let through in a third second, over a second after
    # the first. sent_at is stamped after the send, and a send let through at the end of a
    # second may be stamped in the next: so the span, not the calendar seconds it falls in.
    assert (max(moments) - min(moments)).total_seconds() >= 0.9


async def test_provinces_sharing_a_provider_account_share_its_rate(app, db, onboard, settings):
    """Two provinces on one SMS brandname contract share its rate (here the plugin's usual
    one); a province on a contract of its own is not held back by theirs."""
    import asyncio
    import time

    from motcua.notices.delivery import Deliverer
    from motcua.notices.models import ChannelSetting, Notice
    from motcua.notices.vault import Vault

    shared = {"providers": [{"kind": "esms", "api_key": "K-1", "brandname": "TINH"}]}
    own = {"providers": [{"kind": "esms", "api_key": "K-2", "brandname": "RIENG"}]}
    provinces = [await onboard(), await onboard(), await onboard()]
    contracts = [shared, shared, own]
    async with ProviderConnections() as http:
        vault = Vault.for_settings(settings)
        deliverer = Deliverer(db, http, vault, "http://x/t", redis=app.state.services.queue)
        ceiling = int(deliverer.plugin("sms").capabilities.rate_per_second)
        held = Counter()
        await asyncio.sleep(1.02 - time.time() % 1)  # the whole burst inside one second
        for n in range(3 * ceiling):
            province, raw = provinces[n % 3], contracts[n % 3]
            async with db.tenant_session(province.id) as session:
                setting = ChannelSetting(channel="sms", settings=raw, per_second=None)
                notice = Notice(
                    id=uuid.uuid4(), lane="dossier", test=False, kind="received", channel="sms"
                )
                if await deliverer._held_back(session, [notice], {"sms": setting}):
                    held[n % 3] += 1
    # Within one second: the two sharing provinces got the account's ceiling between them.
    assert held[0] + held[1] == ceiling
    assert held[2] == 0  # a province on its own contract is not held back by theirs


async def test_a_batch_over_the_daily_cap_waits_for_the_next_local_day(app, db, onboard, settings):
    """Three notices counted together against a cap of two a day: the third waits until
    after midnight in the province's time zone; the first two go now."""
    from zoneinfo import ZoneInfo

    from motcua.notices.delivery import Deliverer
    from motcua.notices.models import ChannelSetting, Notice
    from motcua.notices.vault import Vault

    province = await onboard()
    async with ProviderConnections() as http:
        deliverer = Deliverer(
            db, http, Vault.for_settings(settings), "http://x/t", redis=app.state.services.queue
        )
        async with db.tenant_session(province.id) as session:
            setting = ChannelSetting(channel="console", settings={}, per_second=1000, per_day=2)
            notices = [
                Notice(
                    id=uuid.uuid4(), lane="dossier", test=False, kind="received", channel="console"
                )
                for _ in range(3)
            ]
            later = await deliverer._held_back(session, notices, {"console": setting})
    assert list(later) == [notices[2].id]
    tz = ZoneInfo(TZ)
    today = dt.datetime.now(tz).date()
    assert later[notices[2].id].astimezone(tz).date() == today + dt.timedelta(days=1)
