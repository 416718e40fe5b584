"""The TokenStore the core gives plugins: per tenant, in the database, encrypted."""

from __future__ import annotations

import uuid

from sqlalchemy.dialects.postgresql import insert

from motcua.db import Database
from motcua.notices.models import ChannelToken
from motcua.notices.vault import Vault


class DatabaseTokenStore:
    def __init__(self, db: Database, tenant_id: uuid.UUID, vault: Vault) -> None:
        self.db = db
        self.tenant_id = tenant_id
        self.vault = vault

    async def get(self, name: str) -> str | None:
        async with self.db.tenant_session(self.tenant_id) as session:
            row = await session.get(ChannelToken, (self.tenant_id, name))
        return self.vault.decrypt(row.ciphertext) if row else None

    async def set(self, name: str, value: str) -> None:
        # Committed at once, on its own: a refresh token is single-use.
        async with self.db.tenant_session(self.tenant_id) as session:
            ciphertext = self.vault.encrypt(value)
            await session.execute(
                insert(ChannelToken)
                .values(tenant_id=self.tenant_id, name=name, ciphertext=ciphertext)
                .on_conflict_do_update(
                    index_elements=["tenant_id", "name"], set_={"ciphertext": ciphertext}
                )
            )
            await session.commit()
