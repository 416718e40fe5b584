"""The ``motcua`` command line: serve, worker, migrations, keys, tenants and broadcasts."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
import sys
import tempfile
from collections.abc import Callable, Coroutine, Sequence
from pathlib import Path
from typing import Any

from motcua.runtime import Unreachable, backing_servers
from motcua.settings import Settings, SettingsError, load_settings

Command = Callable[[argparse.Namespace, Settings], int]


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        settings = load_settings()
        code: int = args.run(args, settings)
    except (SettingsError, Unreachable) as exc:
        print(f"motcua: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    return code


def _run(coroutine: Coroutine[Any, Any, int]) -> int:
    return asyncio.run(coroutine)


def serve(args: argparse.Namespace, settings: Settings) -> int:
    import uvicorn

    from motcua.app import create_app
    from motcua.logs import configure_logging

    if args.port is not None:
        settings = _replace(settings, port=args.port)
    configure_logging(settings.log_level)
    with backing_servers(settings, redis=True) as live:
        if args.upgrade:
            _upgrade(live)
        if args.packs:
            from motcua.tenancy.commands import apply_packs

            _run(apply_packs(live, args.packs))
        app = create_app(live, with_worker=args.with_worker, worker_grace=args.grace)
        print(
            f"Một Cửa is serving on {live.base_url}  (API docs: {live.base_url}/schema)",
            file=sys.stderr,
            flush=True,
        )
        server = uvicorn.Server(
            uvicorn.Config(
                app,
                host=live.host,
                port=live.port,
                log_config=None,
                access_log=False,
                proxy_headers=True,
                # On SIGTERM or Ctrl-C uvicorn stops accepting, lets requests in flight
                # finish for this long, then runs the app's shutdown.
                timeout_graceful_shutdown=args.grace,
                server_header=False,
            )
        )
        # uvicorn raises the signal again once it has stopped: SIGTERM then ends the command
        # as Ctrl-C does, so embedded servers are stopped too and the exit code is 0.
        signal.signal(signal.SIGTERM, signal.default_int_handler)
        with contextlib.suppress(KeyboardInterrupt):  # Ctrl-C is how one stops it
            server.run()
    return 0


def worker(args: argparse.Namespace, settings: Settings) -> int:
    from motcua import probes

    if args.check:  # the liveness probe: no servers needed, only the file's age
        return probes.check(Path(args.health_file), args.max_age)

    import uvloop

    from motcua.logs import configure_logging
    from motcua.worker import run_lanes

    async def work(live: Settings) -> None:
        beat = asyncio.create_task(probes.beat(Path(args.health_file)))
        try:
            await run_lanes(live, grace=args.grace)
        finally:
            beat.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await beat

    configure_logging(settings.log_level)
    with backing_servers(settings, redis=True) as live, contextlib.suppress(KeyboardInterrupt):
        # uvloop, as uvicorn serves the API: the event loop is much of a send's cost.
        uvloop.run(work(live))
    return 0


def db_upgrade(args: argparse.Namespace, settings: Settings) -> int:
    with backing_servers(settings, redis=False) as live:
        _upgrade(live)
    print("database is up to date")
    return 0


def _upgrade(settings: Settings) -> None:
    from motcua.db.migrate import allow_login, upgrade

    owner = settings.database_owner_url
    upgrade(owner or settings.database_url or "", settings.database_role)
    if owner:
        allow_login(owner, settings.database_url or "", settings.database_role)


def keys_create(args: argparse.Namespace, settings: Settings) -> int:
    from motcua.auth.commands import create_key

    with backing_servers(settings, redis=False) as live:
        return _run(
            create_key(
                live,
                tenant=args.tenant,
                platform=args.platform,
                role=args.role,
                name=args.name,
                test=args.test,
                agency=args.agency,
            )
        )


def keys_revoke(args: argparse.Namespace, settings: Settings) -> int:
    from motcua.auth.commands import revoke_key

    with backing_servers(settings, redis=False) as live:
        return _run(revoke_key(live, args.key_id))


def keys_list(args: argparse.Namespace, settings: Settings) -> int:
    from motcua.auth.commands import list_keys

    with backing_servers(settings, redis=False) as live:
        return _run(list_keys(live, tenant=args.tenant))


def tenants_list(args: argparse.Namespace, settings: Settings) -> int:
    from motcua.tenancy.commands import list_tenants

    with backing_servers(settings, redis=False) as live:
        return _run(list_tenants(live))


def tenants_apply(args: argparse.Namespace, settings: Settings) -> int:
    from motcua.tenancy.commands import apply_packs

    with backing_servers(settings, redis=False) as live:
        return _run(apply_packs(live, args.pack_dir))


def tenants_status(args: argparse.Namespace, settings: Settings) -> int:
    from motcua.tenancy.commands import set_status
    from motcua.tenancy.models import TenantStatus

    status = TenantStatus.SUSPENDED if args.action == "suspend" else TenantStatus.ACTIVE
    with backing_servers(settings, redis=False) as live:
        return _run(set_status(live, args.slug, status))


def tenants_export(args: argparse.Namespace, settings: Settings) -> int:
    from motcua.tenancy.commands import export

    with backing_servers(settings, redis=False) as live:
        return _run(export(live, args.slug, args.output))


def tenants_remove(args: argparse.Namespace, settings: Settings) -> int:
    from motcua.tenancy.commands import remove

    with backing_servers(settings, redis=False) as live:
        return _run(remove(live, args.slug, args.force))


def broadcasts_list(args: argparse.Namespace, settings: Settings) -> int:
    from motcua.broadcasts.commands import list_broadcasts

    with backing_servers(settings, redis=False) as live:
        return _run(list_broadcasts(live, args.tenant, args.status))


def broadcasts_cancel(args: argparse.Namespace, settings: Settings) -> int:
    from motcua.broadcasts.commands import cancel_broadcast

    with backing_servers(settings, redis=False) as live:
        return _run(cancel_broadcast(live, args.tenant, args.broadcast_id))


def _replace(settings: Settings, **changes: Any) -> Settings:
    import msgspec

    try:
        return msgspec.structs.replace(settings, **changes)
    except ValueError as exc:
        raise SettingsError(str(exc)) from None


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="motcua", description="Một Cửa platform")
    commands = parser.add_subparsers(required=True, metavar="COMMAND")

    p = commands.add_parser("serve", help="serve the API and pages")
    p.add_argument("--with-worker", action="store_true", help="run the worker in this process")
    p.add_argument("--port", type=int, help="port (default MOTCUA_PORT or 8000)")
    p.add_argument("--upgrade", action="store_true", help="apply migrations first")
    p.add_argument("--packs", metavar="DIR", help="apply every province pack under DIR first")
    p.add_argument(
        "--grace",
        type=int,
        default=20,
        metavar="SECONDS",
        help="after SIGTERM, how long requests in flight may take to finish, then (with "
        "--with-worker) the jobs in hand (default 20)",
    )
    p.set_defaults(run=serve)

    p = commands.add_parser("worker", help="run the background worker (both lanes)")
    p.add_argument(
        "--grace",
        type=int,
        default=25,
        metavar="SECONDS",
        help="after SIGTERM, how long jobs in hand may take before they are handed back",
    )
    p.add_argument(
        "--health-file",
        default=str(Path(tempfile.gettempdir()) / "motcua-worker-alive"),
        metavar="PATH",
        help="the file the worker touches every 10 s while it runs",
    )
    p.add_argument(
        "--check",
        action="store_true",
        help="exit 0 if a worker on this machine touched --health-file recently (a probe)",
    )
    p.add_argument(
        "--max-age",
        type=float,
        default=60,
        metavar="SECONDS",
        help="with --check: how old the health file may be (default 60)",
    )
    p.set_defaults(run=worker)

    db = commands.add_parser("db", help="database").add_subparsers(required=True, metavar="ACTION")
    db.add_parser("upgrade", help="apply migrations").set_defaults(run=db_upgrade)

    keys = commands.add_parser("keys", help="API keys").add_subparsers(
        required=True, metavar="ACTION"
    )
    p = keys.add_parser("create", help="create a key and print it once")
    owner = p.add_mutually_exclusive_group(required=True)
    owner.add_argument("--tenant", metavar="SLUG", help="the province the key belongs to")
    owner.add_argument("--platform", action="store_true", help="an operator key")
    p.add_argument("--role", choices=["admin", "officer", "viewer", "integration", "operator"])
    p.add_argument("--name", default="", help="what the key is for")
    p.add_argument(
        "--agency",
        metavar="CODE",
        help="an officer's or viewer's agency: the key acts on it and the agencies below it",
    )
    p.add_argument(
        "--test",
        action="store_true",
        help="an integration test key: its notices go to the simulator",
    )
    p.set_defaults(run=keys_create)
    p = keys.add_parser("revoke", help="revoke a key by its id")
    p.add_argument("key_id")
    p.set_defaults(run=keys_revoke)
    p = keys.add_parser("list", help="list keys (never their secrets)")
    p.add_argument("--tenant", metavar="SLUG", help="a province's keys (default: operator keys)")
    p.set_defaults(run=keys_list)

    tenants = commands.add_parser("tenants", help="provinces").add_subparsers(
        required=True, metavar="ACTION"
    )
    tenants.add_parser("list", help="list tenants").set_defaults(run=tenants_list)
    p = tenants.add_parser("apply", help="onboard or update a province from a pack")
    p.add_argument("pack_dir", metavar="PACK_DIR", help="a pack, or a folder of packs")
    p.set_defaults(run=tenants_apply)
    for action, text in (
        ("suspend", "close staff routes; tracking stays read-only"),
        ("resume", "reopen a suspended tenant"),
    ):
        p = tenants.add_parser(action, help=text)
        p.add_argument("slug")
        p.set_defaults(run=tenants_status, action=action)
    p = tenants.add_parser("export", help="write every row of a tenant to an archive")
    p.add_argument("slug")
    p.add_argument("-o", "--output", help="archive path (default motcua-SLUG.tar.gz)")
    p.set_defaults(run=tenants_export)
    p = tenants.add_parser("remove", help="delete every row of a tenant (after an export)")
    p.add_argument("slug")
    p.add_argument("--force", action="store_true", help="remove even without an export")
    p.set_defaults(run=tenants_remove)

    broadcasts = commands.add_parser("broadcasts", help="a province's broadcasts").add_subparsers(
        required=True, metavar="ACTION"
    )
    p = broadcasts.add_parser("list", help="the newest 100, with their counts")
    p.add_argument("--tenant", metavar="SLUG", required=True)
    p.add_argument("--status", choices=["scheduled", "sending", "sent", "cancelled"])
    p.set_defaults(run=broadcasts_list)
    p = broadcasts.add_parser("cancel", help="stop a broadcast: its unsent notices are cancelled")
    p.add_argument("--tenant", metavar="SLUG", required=True)
    p.add_argument("broadcast_id")
    p.set_defaults(run=broadcasts_cancel)
    return parser


if __name__ == "__main__":
    sys.exit(main())
