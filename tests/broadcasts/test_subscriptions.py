"""The subscription rules a citizen meets in a chat, on the tracking page or by email."""

import pytest

from motcua.broadcasts.service import SubscriptionService, UnknownArea, UnknownTopic
from motcua.errors import Invalid
from motcua.notices.channel import Address

ZALO = Address(zalo_user_id="zl-1001")


@pytest.fixture
async def province(onboard):
    return await onboard()


@pytest.fixture
def service(db, province):
    async def run(action):
        async with db.tenant_session(province.id) as session:
            result = await action(SubscriptionService(session))
            await session.commit()
            return result

    return run


async def test_every_province_has_news_and_new_policies_and_may_add_its_own(service):
    names = await service(lambda s: s.topics())
    assert [t.name for t in names] == ["Tin tức", "Chính sách mới"]
    added = await service(lambda s: s.add_topic("  Việc làm  "))
    assert (added.slug, added.name) == ("viec-lam", "Việc làm")
    assert [t.slug for t in await service(lambda s: s.topics())][-1] == "viec-lam"


async def test_areas_are_the_catalogues_communes_and_the_districts_an_admin_adds(service):
    areas = await service(lambda s: s.areas())
    assert {(a.name, a.kind) for a in areas} == {
        ("Xã An Bình", "commune"),
        ("Phường Hòa Thuận", "commune"),
    }
    await service(lambda s: s.add_area("Huyện Châu Thành", "district"))
    assert "huyen-chau-thanh" in {a.slug for a in await service(lambda s: s.areas())}


async def test_a_topic_and_an_area_are_found_with_or_without_diacritics(service):
    done = await service(lambda s: s.subscribe(ZALO, "TIN TUC", "an binh"))
    assert (done.topic, done.area) == ("Tin tức", "Xã An Bình")
    done = await service(lambda s: s.subscribe(ZALO, "chinh-sach-moi", "Phường Hòa Thuận"))
    assert (done.topic_slug, done.area_slug) == ("chinh-sach-moi", "phuong-hoa-thuan")


async def test_subscribing_twice_is_one_subscription(service):
    await service(lambda s: s.subscribe(ZALO, "tin tức", None))
    await service(lambda s: s.subscribe(ZALO, "Tin Tức", None))
    mine = await service(lambda s: s.subscriptions_of(ZALO))
    assert [(m.topic, m.area) for m in mine] == [("Tin tức", None)]


async def test_unsubscribing_from_one_topic_keeps_the_others(service):
    await service(lambda s: s.subscribe(ZALO, "tin tức", "an binh"))
    await service(lambda s: s.subscribe(ZALO, "tin tức", None))
    await service(lambda s: s.subscribe(ZALO, "chính sách mới", None))
    removed = await service(lambda s: s.unsubscribe(ZALO, "tin tuc"))
    assert sorted((r.topic, r.area_slug) for r in removed) == [
        ("Tin tức", ""),
        ("Tin tức", "xa-an-binh"),
    ]
    assert [m.topic for m in await service(lambda s: s.subscriptions_of(ZALO))] == [
        "Chính sách mới"
    ]
    assert len(await service(lambda s: s.unsubscribe(ZALO, None))) == 1
    assert await service(lambda s: s.subscriptions_of(ZALO)) == []


async def test_a_phone_is_one_address_however_it_is_written(service):
    await service(lambda s: s.subscribe(Address(phone="0912 345 678"), "tin tức", None))
    mine = await service(lambda s: s.subscriptions_of(Address(phone="+84912345678")))
    assert len(mine) == 1


async def test_an_unknown_topic_or_area_is_a_clear_problem_listing_the_known_ones(service):
    with pytest.raises(UnknownTopic) as topic:
        await service(lambda s: s.subscribe(ZALO, "thể thao", None))
    assert topic.value.status == 422 and topic.value.extra["known"] == [
        "Tin tức",
        "Chính sách mới",
    ]
    with pytest.raises(UnknownArea) as area:
        await service(lambda s: s.subscribe(ZALO, "tin tức", "Xã Không Có"))
    assert "Xã An Bình" in area.value.extra["known"]
    with pytest.raises(Invalid):
        await service(lambda s: s.subscribe(Address(), "tin tức", None))
    with pytest.raises(Invalid):
        await service(lambda s: s.subscribe(Address(phone="12345"), "tin tức", None))
    assert await service(lambda s: s.subscriptions_of(ZALO)) == []


async def test_a_name_shared_by_a_commune_and_a_former_district_must_be_told_apart(service):
    await service(lambda s: s.add_area("Huyện An Bình", "district"))
    with pytest.raises(UnknownArea) as area:
        await service(lambda s: s.subscribe(ZALO, "tin tức", "An Bình"))
    assert sorted(area.value.extra["known"]) == ["Huyện An Bình", "Xã An Bình"]
    done = await service(lambda s: s.subscribe(ZALO, "tin tức", "huyen an binh"))
    assert done.area == "Huyện An Bình"


async def test_a_retired_topic_takes_its_subscriptions_with_it(service):
    await service(lambda s: s.add_topic("Việc làm"))
    await service(lambda s: s.subscribe(ZALO, "viec lam", None))
    await service(lambda s: s.retire_topic("Việc làm"))
    assert await service(lambda s: s.subscriptions_of(ZALO)) == []
    with pytest.raises(UnknownTopic):
        await service(lambda s: s.subscribe(ZALO, "viec lam", None))
