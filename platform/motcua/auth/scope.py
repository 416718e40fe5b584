"""Scope: an officer acts on the dossiers of their agency and of the agencies below it.

The rule is a function of the caller and the province's agency tree; a guard computes it
once per request (only for callers narrowed to an agency) and the dossier service applies
it: out of scope is "not found", so another commune's codes cannot be probed.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Mapping
from typing import Any

from litestar.connection import ASGIConnection

from motcua.auth.models import Role
from motcua.auth.service import Principal

# Roles that can be narrowed to an agency; admins and integrations see the whole province.
SCOPED_ROLES = frozenset({Role.OFFICER, Role.VIEWER})

Scope = frozenset[str] | None  # None: the whole province


def agencies_under(root: str, parents: Mapping[str, str | None]) -> frozenset[str]:
    """The agency and every agency below it, however deep."""
    children: dict[str, list[str]] = {}
    for code, parent in parents.items():
        if parent is not None:
            children.setdefault(parent, []).append(code)
    found = {root}
    stack = [root]
    while stack:
        for child in children.get(stack.pop(), []):
            if child not in found:  # a cycle in bad data must not loop forever
                found.add(child)
                stack.append(child)
    return frozenset(found)


def scope_of(principal: Principal, parents: Mapping[str, str | None]) -> Scope:
    """The agencies the caller may act on, or None for the whole province."""
    if principal.role not in SCOPED_ROLES or principal.agency_code is None:
        return None
    return agencies_under(principal.agency_code, parents)


def needs_tree(principal: Principal) -> bool:
    return principal.role in SCOPED_ROLES and principal.agency_code is not None


class RecentTrees:
    """Each province's agency tree, read at most every few seconds per process: it changes
    when an admin edits the catalogue, and a scoped request should not pay a query each."""

    TTL = 10.0

    def __init__(self) -> None:
        self._trees: dict[uuid.UUID, tuple[dict[str, str | None], float]] = {}

    def get(self, tenant_id: uuid.UUID) -> dict[str, str | None] | None:
        entry = self._trees.get(tenant_id)
        return entry[0] if entry and entry[1] > time.monotonic() else None

    def put(self, tenant_id: uuid.UUID, tree: dict[str, str | None]) -> None:
        self._trees[tenant_id] = (tree, time.monotonic() + self.TTL)

    def forget(self) -> None:
        self._trees.clear()


recent_trees = RecentTrees()


def request_scope(connection: ASGIConnection[Any, Any, Any, Any]) -> Scope:
    """The scope a guard worked out for this request (None when nobody is narrowed)."""
    scope: Scope = connection.state.get("scope")
    return scope
