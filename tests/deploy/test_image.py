"""The Dockerfile, checked as far as this machine can without Docker: it installs exactly the
lock's runtime packages, runs as a numbered non-root user, and its entry point exists; the
chart's commands are ones the entry point understands."""

from __future__ import annotations

import fnmatch
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from motcua.cli import _parser
from tests.deploy.test_chart import find, production_values, render

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = (ROOT / "Dockerfile").read_text()
FINAL_STAGE = DOCKERFILE.rsplit("\nFROM ", 1)[1]


def _uv() -> str:
    uv = shutil.which("uv") or str(ROOT / ".tools" / "bin" / "uv")
    if not Path(uv).exists():
        pytest.skip("uv is not installed here (make env installs it)")
    return uv


def test_the_image_installs_from_the_lock_without_dev_tools():
    assert "uv sync --frozen --no-dev --all-packages" in DOCKERFILE
    # --frozen trusts uv.lock as it is: it must match pyproject.toml.
    check = subprocess.run(
        [_uv(), "lock", "--check", "--offline"], cwd=ROOT, capture_output=True, text=True
    )
    assert check.returncode == 0, check.stderr
    exported = subprocess.run(
        [_uv(), "export", "--frozen", "--no-dev", "--all-packages", "--no-hashes"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    installed = {line.split("==")[0] for line in exported.splitlines() if "==" in line}
    assert {"litestar", "uvicorn", "asyncpg", "arq"} <= installed
    assert not {"pytest", "ruff", "mypy", "helm-python-sdk", "kubernetes-validate"} & installed


def test_the_final_stage_runs_as_a_numbered_user_with_motcua_as_entry_point():
    assert re.search(r"^USER 10001:10001$", FINAL_STAGE, re.M)
    assert 'ENTRYPOINT ["motcua"]' in FINAL_STAGE
    # Nothing is built or installed there: it copies the built environment.
    assert not re.search(r"apt-get|pip install|uv sync|gcc|build-essential", FINAL_STAGE)
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    assert scripts["motcua"] == "motcua.cli:main"
    # uv sync installs it as a console script, as in the image's /app/.venv/bin.
    motcua = Path(sys.prefix) / "bin" / "motcua"
    assert motcua.is_file(), motcua
    answer = subprocess.run([motcua, "--help"], capture_output=True, text=True, timeout=60)
    assert answer.returncode == 0, answer.stderr
    assert "serve" in answer.stdout and "worker" in answer.stdout
    # The chart runs as the same user the image declares.
    pod = find(render(None), "Deployment", "motcua-api")["spec"]["template"]["spec"]
    assert pod["securityContext"]["runAsUser"] == 10001


def test_what_the_image_copies_exists_and_is_not_ignored():
    ignored = [
        line.strip()
        for line in (ROOT / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    copied = [
        source
        for line in DOCKERFILE.splitlines()
        if line.startswith("COPY ") and "--from=" not in line
        for source in line.split()[1:-1]
    ]
    assert {"uv.lock", "pyproject.toml", "platform", "migrations"} <= set(copied)
    for source in copied:
        assert (ROOT / source).exists(), source
        assert not any(fnmatch.fnmatch(source, pattern) for pattern in ignored), source
    for kept_out in (".venv", "var", ".git", "tests"):
        assert kept_out in ignored


def test_the_commands_the_chart_runs_are_ones_motcua_understands():
    manifests = render(production_values())
    commands = []
    for kind in ("Deployment", "Job"):
        for manifest in (m for m in manifests if m["kind"] == kind):
            for container in manifest["spec"]["template"]["spec"]["containers"]:
                commands.append(container["args"])
                probe = container.get("livenessProbe", {}).get("exec")
                if probe:
                    assert probe["command"][0] == "motcua"
                    commands.append(probe["command"][1:])
    assert len(commands) == 4  # serve, worker, its probe, db upgrade
    for args in commands:
        parsed = _parser().parse_args(args)  # exits (SystemExit) on an unknown option
        assert callable(parsed.run)
