"""Figure of the catalogue issue: onboarding a 2,000-procedure pack from the CLI.

    .venv/bin/python bench/onboarding.py

Times `motcua tenants apply` end to end (process start included) on a fresh database of
the local PostgreSQL: first onboarding, then re-applying the same pack unchanged.
Targets: under 5 s and under 2 s.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from make_pack import make_pack
from services import fresh_database, motcua_env

MOTCUA = str(Path(sys.executable).with_name("motcua"))


def timed_apply(pack: Path, env: dict[str, str]) -> tuple[float, str]:
    started = time.perf_counter()
    result = subprocess.run(
        [MOTCUA, "tenants", "apply", str(pack)], env=env, capture_output=True, text=True, check=True
    )
    return time.perf_counter() - started, result.stderr.strip().splitlines()[-1]


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp, fresh_database("motcua_bench_onboard") as url:
        pack = make_pack(
            Path(tmp) / "tinh-tong-hop",
            slug="tinh-tong-hop",
            procedures=2000,
            departments=20,
            communes=150,
        )
        env = motcua_env(url)
        first, summary = timed_apply(pack, env)
        again, unchanged = timed_apply(pack, env)
    print("pack: 2,000 procedures, 171 agencies (1 province, 20 departments, 150 communes)")
    print(f"onboard from the CLI, end to end : {first:5.2f} s   (target < 5 s)  {summary[:60]}")
    print(f"re-apply unchanged               : {again:5.2f} s   (target < 2 s)  {unchanged}")


if __name__ == "__main__":
    main()
