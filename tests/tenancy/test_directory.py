"""The tenant directory answers from memory; a reload under way holds nobody up."""

import asyncio

from motcua.tenancy.directory import TenantDirectory


async def test_a_reload_under_way_leaves_others_the_list_they_had(db, onboard):
    province = await onboard()
    directory = TenantDirectory(db, ttl=0)  # every answer is stale at once
    assert (await directory.by_slug(province.slug)).id == province.id
    async with directory._lock:  # another request is reloading
        answer = await asyncio.wait_for(directory.by_slug(province.slug), timeout=1)
    assert answer is not None and answer.id == province.id


async def test_after_a_change_here_callers_wait_for_the_new_list(db, onboard):
    directory = TenantDirectory(db)
    await directory.by_slug("none")
    province = await onboard()
    async with directory._lock:  # a reload under way, begun before the change
        directory.invalidate()  # what a change committed in this process does
        waiting = asyncio.ensure_future(directory.by_slug(province.slug))
        await asyncio.sleep(0.05)
        assert not waiting.done()  # not the old list, which lacks the new province
    assert (await waiting).id == province.id
