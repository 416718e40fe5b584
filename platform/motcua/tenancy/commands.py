"""The ``motcua tenants`` commands."""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from motcua.audit.trail import cli_audit
from motcua.db import Database
from motcua.errors import Problem
from motcua.settings import Settings
from motcua.tenancy.models import TenantStatus
from motcua.tenancy.onboarding import apply_pack
from motcua.tenancy.packs import PackInvalid, pack_dirs, read_pack
from motcua.tenancy.service import TenantService


@asynccontextmanager
async def _tenants(settings: Settings) -> AsyncIterator[TenantService]:
    db = Database.for_settings(settings, pool_size=2)
    try:
        yield TenantService(db)
    finally:
        await db.dispose()


class ProgressBar:
    """One line on stderr, redrawn per stage: which part of the pack is being written."""

    STAGES = ("province", "agencies", "procedures", "calendar", "channels")

    def __init__(self, slug: str) -> None:
        self.slug = slug
        self.tty = sys.stderr.isatty()

    def __call__(self, stage: str, count: int) -> None:
        done = self.STAGES.index(stage) + 1
        bar = "#" * (done * 4) + "." * ((len(self.STAGES) - done) * 4)
        line = f"{self.slug:<16} [{bar}] {stage} ({count})"
        print(
            f"\r{line:<72}" if self.tty else line,
            end="" if self.tty else "\n",
            file=sys.stderr,
            flush=True,
        )

    def done(self) -> None:
        if self.tty:
            print("\r" + " " * 72 + "\r", end="", file=sys.stderr, flush=True)


async def apply_packs(settings: Settings, path: str | Path) -> int:
    """Apply a pack folder, or every pack in a folder of packs; print what changed."""
    failed = 0
    async with _tenants(settings) as tenants:
        try:
            folders = pack_dirs(path)
        except PackInvalid as exc:
            print(f"motcua: {exc.problems[0]}", file=sys.stderr)
            return 1
        for folder in folders:
            try:
                pack = read_pack(folder)
                bar = ProgressBar(pack.tenant.slug)
                slug = pack.tenant.slug
                async with cli_audit(
                    tenants.db, "tenant.apply", f"tenant:{slug}", tenant_slug=slug
                ):
                    applied = await apply_pack(tenants.db, pack, progress=bar)
                bar.done()
            except PackInvalid as exc:
                failed += 1
                print(
                    f"{folder.name}: not applied, {len(exc.problems)} problem(s):", file=sys.stderr
                )
                for problem in exc.problems:
                    print(f"  {folder.name}/{problem}", file=sys.stderr)
                continue
            print(applied.summary(), file=sys.stderr)
    return 1 if failed else 0


async def list_tenants(settings: Settings) -> int:
    async with _tenants(settings) as tenants:
        items = await tenants.list()
    print(f"{'slug':<16} {'status':<10} {'code':<5} {'agencies':>8} {'procedures':>10}  name")
    for t in items:
        print(
            f"{t.slug:<16} {t.status:<10} {t.province_code:<5} "
            f"{t.counts.get('agencies', 0):>8} {t.counts.get('procedures', 0):>10}  {t.name}"
        )
    return 0


async def set_status(settings: Settings, slug: str, status: TenantStatus) -> int:
    async with _tenants(settings) as tenants:
        try:
            action = "tenant.resume" if status is TenantStatus.ACTIVE else "tenant.suspend"
            async with cli_audit(tenants.db, action, f"tenant:{slug}", tenant_slug=slug):
                await tenants.set_status(slug, status)
        except Problem as exc:
            print(f"motcua: {exc.detail}", file=sys.stderr)
            return 1
    print(f"{slug}: {status.value}", file=sys.stderr)
    return 0


async def export(settings: Settings, slug: str, output: str | None) -> int:
    target = Path(output or f"motcua-{slug}.tar.gz")
    async with _tenants(settings) as tenants:
        try:
            with target.open("wb") as out:
                async with cli_audit(
                    tenants.db, "tenant.export", f"tenant:{slug}", tenant_slug=slug
                ):
                    counts = await tenants.export(slug, out)
        except Problem as exc:
            target.unlink(missing_ok=True)
            print(f"motcua: {exc.detail}", file=sys.stderr)
            return 1
    rows = sum(counts.values())
    print(f"{slug}: exported {rows} rows of {len(counts)} tables to {target}", file=sys.stderr)
    return 0


async def remove(settings: Settings, slug: str, force: bool) -> int:
    async with _tenants(settings) as tenants:
        try:
            async with cli_audit(
                tenants.db,
                "tenant.remove",
                f"tenant:{slug}",
                tenant_slug=slug,
                detail={"force": True} if force else None,
            ):
                deleted = await tenants.remove(slug, force=force)
        except Problem as exc:
            print(f"motcua: {exc.detail}", file=sys.stderr)
            return 1
    print(f"{slug}: removed ({sum(deleted.values())} rows)", file=sys.stderr)
    return 0
