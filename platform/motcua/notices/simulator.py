"""Test mode: notices made with a test key go here instead of to a provider, so a province
can try its integration without messaging anyone. Reserved addresses choose the outcome:

    +84900000000, delivered@simulator.motcua.vn          sent, then a "delivered" receipt
    +84900000001, temporary-failure@simulator.motcua.vn  a temporary failure (retried)
    +84900000002, permanent-failure@simulator.motcua.vn  a permanent failure (failed over)

Any other address is sent and delivered. The receipt takes the same path as a provider's.
"""

from __future__ import annotations

import uuid

from motcua.db import Database
from motcua.notices.channel import Address, DeliveryFailure, FailureKind, Sent

TEMPORARY = {"+84900000001", "temporary-failure@simulator.motcua.vn"}
PERMANENT = {"+84900000002", "permanent-failure@simulator.motcua.vn"}


async def simulate(
    db: Database, tenant_id: uuid.UUID, notice_id: uuid.UUID, channel: str, to: Address
) -> Sent:
    addresses = {to.phone, to.email}
    if addresses & TEMPORARY:
        raise DeliveryFailure(FailureKind.TEMPORARY, "simulated", "test mode")
    if addresses & PERMANENT:
        raise DeliveryFailure(FailureKind.PERMANENT, "simulated", "test mode")
    return Sent(provider_id=f"sim-{notice_id}", provider=f"simulator:{channel}")
