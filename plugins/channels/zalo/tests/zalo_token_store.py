"""A tenant's token store in memory, for the Zalo plugin's tests."""

from __future__ import annotations


class MemoryTokens:
    """Remembers the order of writes, so tests can check what was stored when."""

    def __init__(self, values: dict[str, str] | None = None) -> None:
        self.values: dict[str, str] = dict(values or {})
        self.writes: list[tuple[str, str]] = []

    async def get(self, name: str) -> str | None:
        return self.values.get(name)

    async def set(self, name: str, value: str) -> None:
        self.values[name] = value
        self.writes.append((name, value))


class LaggingTokens(MemoryTokens):
    """Another worker's tokens land in the store just after this worker read the refresh
    token: the race two worker processes run when both find the access token expired."""

    def __init__(self, landing: dict[str, str]) -> None:
        super().__init__()
        self.landing = landing

    async def get(self, name: str) -> str | None:
        value = await super().get(name)
        if name == "zalo.refresh_token":
            self.values.update(self.landing)
        return value
