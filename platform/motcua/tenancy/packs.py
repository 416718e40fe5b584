"""Province packs: the files a province is onboarded from, read and checked strictly.

A pack is a folder (CONTRACT.md, Province pack) or the same content as one JSON document.
Every problem is reported at once, with its file, line and field, before anything is
written. Packs are refused beyond fixed limits rather than read without bound.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import re
import tomllib
import zoneinfo
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import msgspec

from motcua.auth.providers import provider_problems
from motcua.auth.signin_schemas import ProviderIn
from motcua.calendar.schemas import CalendarIn
from motcua.catalog.rules import agency_problems, procedure_problems
from motcua.catalog.schemas import AgencyIn, ProcedureIn
from motcua.errors import Invalid
from motcua.notices.channels import QUIET_HOURS, secret_problems

MAX_FILE_BYTES = 64 * 2**20
MAX_AGENCIES = 5_000
MAX_PROCEDURES = 20_000
SLUG = re.compile(r"[a-z0-9][a-z0-9-]{1,62}")
DOMAIN = re.compile(r"(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z0-9-]{2,63}")
LOCALES = ("vi", "en")
AGENCY_COLUMNS = ("code", "name", "level", "parent_code")
PROCEDURE_COLUMNS = (
    "code",
    "name",
    "field",
    "level",
    "agency_codes",
    "processing_days",
    "fee",
    "documents",
    "result",
    "online_level",
    "legal_basis",
)
LIST_SEPARATOR = "|"
# [channels] keys that are the province's policy, not a plugin's table.
CHANNEL_POLICY = frozenset({"order", "limits", "quiet_hours"})
DEFAULT_QUIET_HOURS = "21:00-07:00"


class PackAuth(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """[auth]: how the province's staff sign in. [auth.oidc] has the admin route's fields
    (PUT /api/v1/auth/provider); without it, whatever an admin set there stays."""

    oidc: ProviderIn | None = None


class TenantMeta(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    slug: str
    name: str
    province_code: str
    domains: list[str] = msgspec.field(default_factory=list)
    timezone: str = "Asia/Ho_Chi_Minh"
    locale: str = "vi"
    # [channels]: `order` (the citizen's channel plan) and one table per enabled plugin.
    channels: dict[str, Any] = msgspec.field(default_factory=dict)
    auth: PackAuth = msgspec.field(default_factory=PackAuth)

    @property
    def channel_order(self) -> list[str]:
        order = self.channels.get("order", [])
        return [str(name) for name in order] if isinstance(order, list) else []

    @property
    def channel_settings(self) -> dict[str, dict[str, Any]]:
        return {
            k: v
            for k, v in self.channels.items()
            if k not in CHANNEL_POLICY and isinstance(v, dict)
        }

    @property
    def channel_limits(self) -> dict[str, dict[str, Any]]:
        limits = self.channels.get("limits", {})
        return limits if isinstance(limits, dict) else {}

    @property
    def quiet_hours(self) -> str:
        return str(self.channels.get("quiet_hours", DEFAULT_QUIET_HOURS))


class Pack(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """A whole province pack, as the platform route takes it in JSON."""

    tenant: TenantMeta
    agencies: list[AgencyIn]
    procedures: list[ProcedureIn]
    calendar: CalendarIn = msgspec.field(default_factory=CalendarIn)


@dataclass(frozen=True)
class PackProblem:
    file: str
    line: int  # 1-based line of a file; item number in a JSON list; 0: the file as a whole
    field: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        return f"{where}: {self.field + ' ' if self.field else ''}{self.message}"


class PackInvalid(Invalid):
    """Every problem of a pack at once; nothing of it was written."""

    def __init__(self, problems: list[PackProblem]) -> None:
        super().__init__(
            f"The pack has {len(problems)} problem(s); nothing was written.",
            errors=[dataclasses.asdict(p) for p in problems],
        )
        self.problems = problems


@dataclass
class Lines:
    """Where each item of a pack came from, for problems found after reading."""

    file_agencies: str = "agencies"
    file_procedures: str = "procedures"
    agencies: list[int] | None = None
    procedures: list[int] | None = None
    toml: dict[str, str] | None = None  # file name → its text, to find a key's line

    def agency(self, index: int) -> int:
        return self.agencies[index] if self.agencies else index + 1

    def procedure(self, index: int) -> int:
        return self.procedures[index] if self.procedures else index + 1

    def toml_line(self, file: str, key: str) -> int:
        text = (self.toml or {}).get(file, "")
        leaf = re.escape(key.rsplit(".", 1)[-1])
        for number, line in enumerate(text.splitlines(), 1):
            if re.match(rf"\s*(\[+\s*)?[\w.\"-]*{leaf}\b", line):
                return number
        return 0


# -- reading a folder ----------------------------------------------------------------------


def read_pack(folder: Path) -> Pack:
    """Read and check a pack folder; raise PackInvalid with every problem found."""
    problems: list[PackProblem] = []
    lines = Lines(toml={})
    root = folder.resolve()

    def text_of(name: str, *, required: bool) -> str | None:
        path = folder / name
        if not path.exists():
            if required:
                problems.append(PackProblem(name, 0, "", "is missing"))
            return None
        if not path.resolve().is_relative_to(root):
            problems.append(PackProblem(name, 0, "", "points outside the pack folder"))
            return None
        if not path.is_file():
            problems.append(PackProblem(name, 0, "", "is not a file"))
            return None
        if path.stat().st_size > MAX_FILE_BYTES:
            problems.append(PackProblem(name, 0, "", f"is larger than {MAX_FILE_BYTES >> 20} MiB"))
            return None
        raw = path.read_bytes()
        try:
            return raw.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            line = raw[: exc.start].count(b"\n") + 1
            problems.append(PackProblem(name, line, "", f"is not UTF-8 (byte {raw[exc.start]:#x})"))
            return None

    meta_raw = _toml(text_of("tenant.toml", required=True), "tenant.toml", problems, lines)
    calendar_raw = _toml(text_of("calendar.toml", required=False), "calendar.toml", problems, lines)
    agencies_text = text_of("agencies.csv", required=True)
    agencies, lines.agencies = (
        _csv_items(agencies_text, "agencies.csv", AGENCY_COLUMNS, MAX_AGENCIES, problems)
        if agencies_text
        else ([], [])
    )
    lines.file_agencies = "agencies.csv"
    if (folder / "procedures.json").exists() and not (folder / "procedures.csv").exists():
        lines.file_procedures = "procedures.json"
        procedures = _json_items(text_of("procedures.json", required=True), problems)
    else:
        lines.file_procedures = "procedures.csv"
        procedures_text = text_of("procedures.csv", required=True)
        procedures, lines.procedures = (
            _csv_items(
                procedures_text, "procedures.csv", PROCEDURE_COLUMNS, MAX_PROCEDURES, problems
            )
            if procedures_text
            else ([], [])
        )
        for item in procedures:
            for name in ("agency_codes", "documents"):
                item[name] = [v.strip() for v in item[name].split(LIST_SEPARATOR) if v.strip()]
    if problems:
        raise PackInvalid(problems)
    raw = {
        "tenant": meta_raw,
        "agencies": agencies,
        "procedures": procedures,
        "calendar": calendar_raw or {},
    }
    return parse_pack(raw, lines)


def _toml(text: str | None, name: str, problems: list[PackProblem], lines: Lines) -> Any:
    if text is None:
        return None
    assert lines.toml is not None
    lines.toml[name] = text
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        problems.append(PackProblem(name, getattr(exc, "lineno", 0) or 0, "", str(exc)))
        return None


def _csv_items(
    text: str, name: str, columns: tuple[str, ...], limit: int, problems: list[PackProblem]
) -> tuple[list[dict[str, Any]], list[int]]:
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = [h.strip() for h in next(reader)]
    except StopIteration:
        problems.append(PackProblem(name, 1, "", "is empty"))
        return [], []
    except csv.Error as exc:
        problems.append(PackProblem(name, 1, "", f"is not valid CSV: {exc}"))
        return [], []
    missing = [c for c in columns if c not in header]
    unknown = [h for h in header if h not in columns]
    if missing or unknown:
        parts = [f"missing {', '.join(missing)}"] if missing else []
        parts += [f"unknown {', '.join(unknown)}"] if unknown else []
        detail = "; ".join(parts)
        problems.append(PackProblem(name, 1, "", f"header: {detail}"))
        return [], []
    items: list[dict[str, Any]] = []
    numbers: list[int] = []
    try:
        for row in reader:
            if not any(cell.strip() for cell in row):
                continue
            if len(items) == limit:
                problems.append(
                    PackProblem(
                        name, reader.line_num, "", f"has more than {limit} rows: split the province"
                    )
                )
                break
            if len(row) != len(header):
                problems.append(
                    PackProblem(
                        name, reader.line_num, "", f"has {len(row)} cells, the header {len(header)}"
                    )
                )
                continue
            items.append({h: cell.strip() for h, cell in zip(header, row, strict=True)})
            numbers.append(reader.line_num)
    except csv.Error as exc:
        problems.append(PackProblem(name, reader.line_num, "", f"is not valid CSV: {exc}"))
    return items, numbers


def _json_items(text: str | None, problems: list[PackProblem]) -> list[Any]:
    if text is None:
        return []
    try:
        items = msgspec.json.decode(text)
    except msgspec.DecodeError as exc:
        problems.append(PackProblem("procedures.json", 0, "", f"is not valid JSON: {exc}"))
        return []
    if not isinstance(items, list):
        problems.append(PackProblem("procedures.json", 0, "", "must be a list of procedures"))
        return []
    if len(items) > MAX_PROCEDURES:
        problems.append(
            PackProblem("procedures.json", 0, "", f"has more than {MAX_PROCEDURES} procedures")
        )
        return []
    return items


# -- checking a pack, from a folder or from JSON ------------------------------------------


def parse_pack(raw: Any, lines: Lines | None = None) -> Pack:
    """Type-check a raw pack item by item, then check its rules; raise PackInvalid."""
    lines = lines or Lines()
    problems: list[PackProblem] = []
    if not isinstance(raw, dict):
        raise PackInvalid([PackProblem("pack", 0, "", "must be an object")])
    unknown = set(raw) - {"tenant", "agencies", "procedures", "calendar"}
    problems += [PackProblem("pack", 0, key, "is not part of a pack") for key in sorted(unknown)]

    tenant = _convert(raw.get("tenant"), TenantMeta, "tenant.toml", 0, problems, lines)
    calendar = _convert(raw.get("calendar") or {}, CalendarIn, "calendar.toml", 0, problems, lines)
    agencies_raw = raw.get("agencies")
    procedures_raw = raw.get("procedures")
    for name, value, limit in (
        ("agencies", agencies_raw, MAX_AGENCIES),
        ("procedures", procedures_raw, MAX_PROCEDURES),
    ):
        if not isinstance(value, list):
            problems.append(PackProblem(name, 0, "", "must be a list"))
        elif len(value) > limit:
            problems.append(PackProblem(name, 0, "", f"has more than {limit} items"))
    if problems and tenant is None:
        raise PackInvalid(problems)
    agencies = [
        _convert(item, AgencyIn, lines.file_agencies, lines.agency(i), problems, lines)
        for i, item in enumerate(agencies_raw if isinstance(agencies_raw, list) else [])
    ]
    procedures = [
        _convert(item, ProcedureIn, lines.file_procedures, lines.procedure(i), problems, lines)
        for i, item in enumerate(procedures_raw if isinstance(procedures_raw, list) else [])
    ]
    # Keep going past badly typed items, so that one reading reports every problem.
    pack = Pack(
        tenant=tenant,
        agencies=[a for a in agencies if a is not None],
        procedures=[p for p in procedures if p is not None],
        calendar=calendar or CalendarIn(),
    )
    problems += pack_problems(pack, lines)
    if problems:
        raise PackInvalid(problems)
    return pack


def _convert(
    value: Any, kind: type[Any], file: str, line: int, problems: list[PackProblem], lines: Lines
) -> Any:
    if kind is AgencyIn and isinstance(value, dict) and value.get("parent_code") == "":
        value = {**value, "parent_code": None}
    try:
        return msgspec.convert(value, kind, strict=False)
    except msgspec.ValidationError as exc:
        message, _, where = str(exc).partition(" - at `$")
        field = where.strip("`.").split("[")[0].replace("`", "")
        if file.endswith(".toml") and field:
            line = lines.toml_line(file, field)
        problems.append(PackProblem(file, line, field, message))
        return None


def pack_problems(pack: Pack, lines: Lines) -> list[PackProblem]:
    problems: list[PackProblem] = []
    meta = pack.tenant

    def at_meta(field: str, message: str) -> None:
        problems.append(
            PackProblem("tenant.toml", lines.toml_line("tenant.toml", field), field, message)
        )

    if not SLUG.fullmatch(meta.slug):
        at_meta("slug", "must be 2–63 lower-case letters, digits and hyphens")
    if not meta.name.strip():
        at_meta("name", "is required")
    if not re.fullmatch(r"\d{2}", meta.province_code):
        at_meta("province_code", "must be the province's two-digit code")
    for domain in meta.domains:
        if not DOMAIN.fullmatch(domain):
            at_meta("domains", f"'{domain}' is not a lower-case host name")
    if len(set(meta.domains)) != len(meta.domains):
        at_meta("domains", "names a domain twice")
    try:
        zoneinfo.ZoneInfo(meta.timezone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        at_meta("timezone", f"'{meta.timezone}' is not a time zone")
    if meta.locale not in LOCALES:
        at_meta("locale", f"must be one of {', '.join(LOCALES)}")
    for field, message in secret_problems(meta.channel_settings, "channels"):
        at_meta(field, message)
    if not QUIET_HOURS.fullmatch(meta.quiet_hours):
        at_meta("quiet_hours", "must be HH:MM-HH:MM (local time), or empty for none")
    for name, limit in meta.channel_limits.items():
        if name not in meta.channel_settings or not isinstance(limit, dict):
            at_meta("limits", f"names '{name}', which has no [channels.{name}] table")
            continue
        for key, value in limit.items():
            if (
                key not in ("per_second", "per_day")
                or not isinstance(value, int | float)
                or isinstance(value, bool)
                or value <= 0
            ):
                at_meta("limits", f"{name}.{key}: per_second and per_day are positive numbers")
    for name in meta.channel_order:
        if name not in meta.channel_settings:
            at_meta("order", f"names '{name}', which has no [channels.{name}] table")
    if (oidc := meta.auth.oidc) is not None:
        found = provider_problems(
            oidc.issuer,
            oidc.client_secret,
            oidc.role_map,
            scopes=oidc.scopes,
            role_claim=oidc.role_claim,
        )
        for field, message in found:
            at_meta(f"auth.oidc.{field}", message)

    codes = Counter(a.code for a in pack.agencies)
    for i, agency in enumerate(pack.agencies):
        line = lines.agency(i)
        problems += [
            PackProblem(lines.file_agencies, line, f, m) for f, m in agency_problems(agency)
        ]
        if codes[agency.code] > 1:
            problems.append(
                PackProblem(
                    lines.file_agencies, line, "code", f"'{agency.code}' appears more than once"
                )
            )
        if agency.parent_code and agency.parent_code not in codes:
            problems.append(
                PackProblem(
                    lines.file_agencies,
                    line,
                    "parent_code",
                    f"'{agency.parent_code}' is not an agency of the pack",
                )
            )
    problems += _cycles(pack.agencies, lines)
    if pack.agencies and all(a.parent_code for a in pack.agencies):
        problems.append(
            PackProblem(
                lines.file_agencies, 0, "parent_code", "no agency is at the top of the tree"
            )
        )

    procedure_codes = Counter(p.code for p in pack.procedures)
    for i, procedure in enumerate(pack.procedures):
        line = lines.procedure(i)
        problems += [
            PackProblem(lines.file_procedures, line, f, m) for f, m in procedure_problems(procedure)
        ]
        if procedure_codes[procedure.code] > 1:
            problems.append(
                PackProblem(
                    lines.file_procedures,
                    line,
                    "code",
                    f"'{procedure.code}' appears more than once",
                )
            )
        for code in procedure.agency_codes:
            if code not in codes:
                problems.append(
                    PackProblem(
                        lines.file_procedures,
                        line,
                        "agency_codes",
                        f"'{code}' is not an agency of the pack",
                    )
                )

    seen: dict[Any, str] = {}
    for kind, entries in (
        ("holidays", pack.calendar.holidays),
        ("working_days", pack.calendar.working_days),
    ):
        for entry in entries:
            if not entry.name.strip():
                problems.append(
                    PackProblem(
                        "calendar.toml",
                        lines.toml_line("calendar.toml", kind),
                        kind,
                        f"{entry.date} has no name",
                    )
                )
            if entry.date in seen:
                problems.append(
                    PackProblem(
                        "calendar.toml",
                        lines.toml_line("calendar.toml", kind),
                        kind,
                        f"{entry.date} is listed twice",
                    )
                )
            seen[entry.date] = kind
    return problems


def _cycles(agencies: list[AgencyIn], lines: Lines) -> list[PackProblem]:
    parents = {a.code: a.parent_code for a in agencies}
    problems = []
    for i, agency in enumerate(agencies):
        seen, cursor = {agency.code}, agency.parent_code
        while cursor is not None and cursor in parents:
            if cursor in seen:
                problems.append(
                    PackProblem(
                        lines.file_agencies,
                        lines.agency(i),
                        "parent_code",
                        "makes the agency its own ancestor",
                    )
                )
                break
            seen.add(cursor)
            cursor = parents[cursor]
    return problems


def pack_dirs(path: str | Path) -> list[Path]:
    """A pack folder itself, or every pack folder inside a folder of packs."""
    root = Path(path)
    if (root / "tenant.toml").is_file():
        return [root]
    if not root.is_dir():
        raise PackInvalid([PackProblem(str(root), 0, "", "is not a pack folder")])
    return sorted(p for p in root.iterdir() if (p / "tenant.toml").is_file())
