"""A tenant's export: one archive with its pack and every row it owns.

    <slug>/tenant.toml, agencies.csv, procedures.csv, calendar.toml   the pack, re-appliable
    <slug>/data/<table>.jsonl                                         every row, one per line
    <slug>/manifest.json                                              what is inside

Enough to move the province to another installation: apply the pack there, then load the
rows of the other tables. A channel secret an admin gave through the API (kept by the
vault) is not in the pack, not even encrypted: the pack names an environment variable in
its place (`env:MOTCUA_<SLUG>_<CHANNEL>_<FIELD>`), and the manifest lists those variables,
with those the pack named already, to be set where the pack is applied. The data rows are
kept as stored: a secret there is the vault's ciphertext, which only this installation's
keys open.
"""

from __future__ import annotations

import csv
import io
import json
import re
import tarfile
import time
from datetime import UTC, datetime
from typing import IO, Any

import msgspec

from motcua.calendar.service import HOLIDAY, national_calendar
from motcua.notices.channel import VAULT_PREFIX
from motcua.notices.channels import ENV_REFERENCE
from motcua.tenancy.packs import AGENCY_COLUMNS, LIST_SEPARATOR, PROCEDURE_COLUMNS

FORMAT_VERSION = 1


def secret_references(settings: Any, name: str) -> tuple[Any, list[str]]:
    """Settings as a pack holds them: each secret the vault keeps becomes an env:VARIABLE
    reference, named after where it sits (`name`, then the field). Answers the settings and
    the variables to provide: those, and the env:VARIABLE references already there."""
    if isinstance(settings, str) and ENV_REFERENCE.fullmatch(settings):
        return settings, [settings.removeprefix("env:")]
    if isinstance(settings, str) and settings.startswith(VAULT_PREFIX):
        variable = re.sub(r"[^A-Z0-9]+", "_", name.upper()).strip("_")
        return f"env:{variable}", [variable]
    wanted: list[str] = []
    if isinstance(settings, dict):
        kept = {}
        for field, value in settings.items():
            kept[field], names = secret_references(value, f"{name}_{field}")
            wanted += names
        return kept, wanted
    if isinstance(settings, list):
        items = []
        for index, value in enumerate(settings):
            item, names = secret_references(value, f"{name}_{index}")
            items.append(item)
            wanted += names
        return items, wanted
    return settings, wanted


def write_archive(
    out: IO[bytes],
    slug: str,
    meta: dict[str, Any],
    tables: dict[str, list[dict[str, Any]]],
    secrets: list[str] | None = None,
) -> dict[str, int]:
    """Write the archive of one tenant to out; answer the row count per table."""
    counts = {name: len(rows) for name, rows in tables.items()}
    files = {
        "tenant.toml": dump_toml(meta),
        "agencies.csv": _agencies_csv(tables.get("agencies", [])),
        "procedures.csv": _procedures_csv(
            tables.get("procedures", []), tables.get("procedure_agencies", [])
        ),
        "calendar.toml": _calendar_toml(tables.get("calendar_days", [])),
        "manifest.json": json.dumps(
            {
                "format_version": FORMAT_VERSION,
                "tenant": slug,
                "exported_at": datetime.now(UTC).isoformat(),
                "rows": counts,
                # Set these where the pack is applied: the secrets the vault kept here.
                "secrets_to_provide": secrets or [],
            },
            ensure_ascii=False,
            indent=2,
        )
        + "\n",
    }
    with tarfile.open(fileobj=out, mode="w:gz") as archive:
        for name, text in files.items():
            _add(archive, f"{slug}/{name}", text.encode())
        for table, rows in tables.items():
            body = b"".join(msgspec.json.encode(row) + b"\n" for row in rows)
            _add(archive, f"{slug}/data/{table}.jsonl", body)
    return counts


def _add(archive: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mtime = int(time.time())
    info.mode = 0o644
    archive.addfile(info, io.BytesIO(data))


def _csv(columns: tuple[str, ...], rows: list[dict[str, Any]]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(columns)
    writer.writerows([[row.get(c, "") for c in columns] for row in rows])
    return buffer.getvalue()


def _agencies_csv(rows: list[dict[str, Any]]) -> str:
    active = [{**r, "parent_code": r["parent_code"] or ""} for r in rows if r["active"]]
    return _csv(AGENCY_COLUMNS, active)


def _procedures_csv(rows: list[dict[str, Any]], links: list[dict[str, Any]]) -> str:
    agencies: dict[str, list[tuple[int, str]]] = {}
    for link in links:
        agencies.setdefault(link["procedure_code"], []).append(
            (link["position"], link["agency_code"])
        )
    out = []
    for row in rows:
        if not row["active"]:
            continue
        hours = row["processing_hours"]
        out.append(
            {
                **row,
                "agency_codes": LIST_SEPARATOR.join(
                    c for _, c in sorted(agencies.get(row["code"], []))
                ),
                "processing_days": str(hours // 8) if hours % 8 == 0 else f"{hours}h",
                "documents": LIST_SEPARATOR.join(row["documents"]),
            }
        )
    return _csv(PROCEDURE_COLUMNS, out)


def _calendar_toml(rows: list[dict[str, Any]]) -> str:
    """The tenant's own days: those that differ from the national calendar."""
    national = {e.date: ("holiday", e.name) for e in national_calendar().holidays}
    national |= {e.date: ("working_day", e.name) for e in national_calendar().working_days}
    own = [r for r in rows if national.get(r["day"]) != (r["kind"], r["name"])]
    lines = ["# The province's own days, beyond the national calendar.\n"]
    for row in sorted(own, key=lambda r: r["day"]):
        table = "holidays" if row["kind"] == HOLIDAY else "working_days"
        lines.append(
            f'\n[[{table}]]\ndate = "{row["day"].isoformat()}"\nname = {_toml_value(row["name"])}\n'
        )
    return "".join(lines)


def dump_toml(data: dict[str, Any], prefix: str = "") -> str:
    """A small TOML writer for a pack's tenant.toml: scalars, lists, tables (inline inside
    a list, as an SMS channel's providers). TOML has no null: a None is left out."""
    scalars = [
        f"{_toml_key(key)} = {_toml_value(value)}\n"
        for key, value in data.items()
        if not isinstance(value, dict) and value is not None
    ]
    tables = [
        f"\n[{prefix}{_toml_key(key)}]\n" + dump_toml(value, f"{prefix}{_toml_key(key)}.")
        for key, value in data.items()
        if isinstance(value, dict)
    ]
    return "".join(scalars) + "".join(tables)


def _toml_key(key: str) -> str:
    # A claim value mapped to a role may be "Cán bộ" or "/groups/officers": quote what a
    # bare key cannot hold.
    return key if re.fullmatch(r"[A-Za-z0-9_-]+", key) else json.dumps(key, ensure_ascii=False)


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        fields = [f"{_toml_key(k)} = {_toml_value(v)}" for k, v in value.items() if v is not None]
        return "{ " + ", ".join(fields) + " }" if fields else "{}"
    # A JSON string is a valid TOML basic string.
    return json.dumps(str(value), ensure_ascii=False)
