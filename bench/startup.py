"""Figures of the foundation: `make run` to /readyz 200, fresh and warm; idle memory.

Run from the repository root with the environment installed:  .venv/bin/python bench/startup.py
It uses a private data folder and port, so it does not touch your ./var.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import psutil

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start(data_dir: Path, port: int) -> tuple[subprocess.Popen[bytes], float]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MOTCUA_")}
    env |= {"MOTCUA_DATA_DIR": str(data_dir), "MOTCUA_PORT": str(port)}
    started = time.perf_counter()
    proc = subprocess.Popen(
        ["make", "-s", "run"],
        cwd=ROOT,
        env=env,
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    while True:
        if proc.poll() is not None:
            sys.exit(f"make run exited with {proc.returncode}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=1).status_code == 200:
                return proc, time.perf_counter() - started
        except httpx.TransportError:
            pass
        time.sleep(0.05)


def stop(proc: subprocess.Popen[bytes]) -> None:
    os.killpg(proc.pid, signal.SIGINT)
    proc.wait(60)


def serve_process(proc: subprocess.Popen[bytes]) -> psutil.Process:
    for child in psutil.Process(proc.pid).children(recursive=True):
        if "serve" in child.cmdline():
            return child
    raise RuntimeError("no serve process found")


def main() -> None:
    data_dir = Path(tempfile.mkdtemp(prefix="motcua-bench-")) / "var"
    port = free_port()
    try:
        proc, fresh = start(data_dir, port)
        stop(proc)
        warm_runs = []
        for _ in range(3):
            proc, warm = start(data_dir, port)
            warm_runs.append(warm)
            if len(warm_runs) < 3:
                stop(proc)
        time.sleep(10)  # let start-up garbage settle and the worker's first cron tick pass
        rss = serve_process(proc).memory_info().rss / 2**20
        stop(proc)
    finally:
        shutil.rmtree(data_dir.parent, ignore_errors=True)
    print(f"make run -> /readyz 200, fresh ./var : {fresh:5.2f} s   (target < 10 s)")
    print(
        f"make run -> /readyz 200, warm ./var  : {min(warm_runs):5.2f} s best, "
        f"{max(warm_runs):5.2f} s worst of 3   (target < 3 s)"
    )
    print(f"idle RSS of motcua serve --with-worker: {rss:6.1f} MB   (target < 200 MB)")


if __name__ == "__main__":
    main()
