"""Delivery receipts: a provider's word moves a sent notice to delivered or failed, never
back. A receipt that arrives before its send is recorded is kept and tried again."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from sqlalchemy import select

from motcua.db import Database
from motcua.notices.channel import Receipt
from motcua.notices.models import Notice


async def apply_receipt(db: Database, tenant_id: uuid.UUID, receipt: Receipt) -> bool:
    """True when the receipt is settled (applied or moot); False to try again later."""
    async with db.tenant_session(tenant_id) as session:
        query = select(Notice).with_for_update()
        if receipt.notice_id:
            try:
                query = query.where(Notice.id == uuid.UUID(receipt.notice_id))
            except ValueError:
                return True  # not one of ours
        elif receipt.provider_id:
            query = query.where(Notice.provider_id == receipt.provider_id)
        else:
            return True
        notice = await session.scalar(query)
        if notice is None:
            # Known by the provider's id only once the send is recorded: wait for it.
            return receipt.notice_id is not None
        if notice.status in ("created", "sending"):
            return False
        if notice.status == "sent":
            if receipt.delivered:
                notice.status, notice.delivered_at = "delivered", datetime.now(UTC)
            else:
                notice.status = "failed"
                notice.last_error = f"receipt: {receipt.code}"[:500]
            await session.commit()
        return True
