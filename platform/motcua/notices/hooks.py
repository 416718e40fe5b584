"""Inbound webhooks of a channel: verified as the provider documents, answered fast.

Delivery receipts are handed to the worker; a receipt for a notice whose send is not yet
recorded waits there and is tried again for a few minutes. Citizens' events (messages,
follows, shared phones) are stored first, then handled by the worker (conversations/).
A call that fails verification writes nothing.
"""

from __future__ import annotations

import logging
import uuid

import msgspec
from arq.connections import ArqRedis
from sqlalchemy.ext.asyncio import AsyncSession

from motcua.conversations.inbound import store_events
from motcua.db import Database
from motcua.errors import NotFound, Unauthorized, Unavailable
from motcua.notices.channel import DeliveryFailure, RawRequest, discover, resolve_settings
from motcua.notices.models import ChannelSetting
from motcua.notices.receipts import apply_receipt
from motcua.notices.vault import Vault

log = logging.getLogger(__name__)


async def receive_hook(
    session: AsyncSession,
    db: Database,
    queue: ArqRedis,
    tenant_id: uuid.UUID,
    channel: str,
    raw: RawRequest,
    slug: str = "",
    vault: Vault | None = None,
) -> tuple[int, int]:
    """Check and take in one webhook call; answer (receipts it carried, new events)."""
    plugin_type = discover().get(channel)
    setting = await session.get(ChannelSetting, (tenant_id, channel))
    if plugin_type is None or setting is None:
        raise NotFound(f"The channel '{channel}' is not enabled here.")
    try:
        settings = resolve_settings(plugin_type, setting.settings, vault=vault)
    except DeliveryFailure as exc:
        log.error("channel %s settings unusable: %s", channel, exc.code)
        raise Unavailable("This channel is not configured correctly.") from None
    plugin = plugin_type()
    if not plugin.verify(raw, settings):
        raise Unauthorized("The webhook's signature does not check out.")
    receipts = plugin.parse_receipts(raw, settings)
    # Stored in the request's transaction; the worker is asked only after it commits.
    events = await store_events(session, slug, channel, plugin.parse(raw, settings))
    for receipt in receipts:
        try:
            await queue.enqueue_job(
                "apply_receipt_job", str(tenant_id), msgspec.to_builtins(receipt), 0
            )
        except Exception:  # Redis down: apply it here, once
            log.warning("receipt applied inline", exc_info=True)
            await apply_receipt(db, tenant_id, receipt)
    return len(receipts), events
