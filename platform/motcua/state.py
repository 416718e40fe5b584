"""The running service's shared objects, built once at start-up and kept on app.state."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from arq.connections import ArqRedis
from litestar.connection import ASGIConnection

from motcua.db import Database
from motcua.settings import Settings
from motcua.tenancy.directory import TenantDirectory


@dataclass
class Services:
    settings: Settings
    db: Database
    queue: ArqRedis
    directory: TenantDirectory


def services(connection: ASGIConnection[Any, Any, Any, Any]) -> Services:
    found: Services = connection.app.state.services
    return found
