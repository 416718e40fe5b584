"""`make run` in miniature: `motcua serve` on fresh embedded servers, ready, then stopped."""

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import psutil
import pytest

FIXTURE_PACKS = Path(__file__).parent / "fixtures" / "packs"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _motcua(*args: str, env: dict[str, str], cwd: Path, **kwargs):
    return subprocess.Popen(
        [sys.executable, "-m", "motcua.cli", *args],
        env=env,
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        **kwargs,
    )


def _servers_under(folder: Path) -> list[psutil.Process]:
    found = []
    for proc in psutil.process_iter(["cmdline", "status"]):
        cmdline = " ".join(proc.info["cmdline"] or [])
        if str(folder) in cmdline and proc.info["status"] != psutil.STATUS_ZOMBIE:
            found.append(proc)
    return found


def test_serve_starts_embedded_servers_becomes_ready_and_stops_cleanly(tmp_path):
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("MOTCUA_")}
    env |= {"MOTCUA_DATA_DIR": str(tmp_path / "var"), "MOTCUA_PORT": str(port)}
    server = _motcua(
        "serve", "--with-worker", "--upgrade", "--packs", str(FIXTURE_PACKS), env=env, cwd=tmp_path
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            assert server.poll() is None, server.communicate()[1]
            try:
                if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "not ready within 60 s"
            time.sleep(0.2)

        # A second command on the same data folder reaches the same embedded servers.
        keys = _motcua("keys", "create", "--platform", env=env, cwd=tmp_path)
        key, err = keys.communicate(timeout=60)
        assert keys.returncode == 0, err
        tenants = httpx.get(
            f"http://127.0.0.1:{port}/api/v1/platform/tenants",
            headers={"Authorization": f"Bearer {key.strip()}"},
        )
        assert tenants.status_code == 200
        assert [t["slug"] for t in tenants.json()["items"]] == ["tinh-thu"]
        # Public tracking, rate limited through the embedded Redis's unix socket.
        missing = httpx.get(f"http://127.0.0.1:{port}/t/tinh-thu/api/v1/track/TT-000000-0001")
        assert missing.status_code == 404
    finally:
        server.send_signal(signal.SIGINT)
        _, err = server.communicate(timeout=60)
    assert server.returncode == 0, err
    assert _servers_under(tmp_path) == []


@pytest.mark.parametrize("missing", ["PostgreSQL", "Redis"])
def test_serve_says_which_server_is_missing_and_exits(tmp_path, settings, missing):
    closed = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("MOTCUA_")}
    env |= {"MOTCUA_DATABASE_URL": settings.database_url, "MOTCUA_REDIS_URL": settings.redis_url}
    if missing == "PostgreSQL":
        env["MOTCUA_DATABASE_URL"] = f"postgresql://postgres@127.0.0.1:{closed}/motcua"
    else:
        env["MOTCUA_REDIS_URL"] = f"redis://127.0.0.1:{closed}/0"
    server = _motcua("serve", env=env, cwd=tmp_path)
    _, err = server.communicate(timeout=60)
    assert server.returncode == 1
    assert err.strip().splitlines()[-1].startswith(f"motcua: {missing} is not reachable at")


def test_the_platform_folder_does_not_shadow_the_standard_library():
    root = Path(__file__).resolve().parents[1]
    result = subprocess.run(
        [sys.executable, "-c", "import platform; print(platform.system())"],
        cwd=root,
        capture_output=True,
        text=True,
        check=True,
    )
    assert result.stdout.strip() == "Linux"
