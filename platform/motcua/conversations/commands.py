"""What a citizen's message asks for, in Vietnamese with or without diacritics. A table of
phrases the reader can check, folded once (catalog/folding.py), first match wins."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Final, Literal

from motcua.catalog.folding import fold

Kind = Literal[
    "lookup",
    "my_dossiers",
    "procedures",
    "subscribe",
    "unsubscribe",
    "link_phone",
    "confirm_code",
    "my_data",
    "erase",
    "help",
    "rating",
    "question",
]

# A dossier code as receipts print it: {unit}-{yyMMdd}-{NNNN}, typed in any case.
DOSSIER_CODE: Final = re.compile(r"(?<![\w.-])([A-Za-z0-9][A-Za-z0-9.]{0,40}-\d{6}-\d{4})(?![\w-])")
PHONE: Final = re.compile(r"(?:\+?84|0)[\s.]?\d(?:[\s.]?\d){7,9}")
ONE_TIME_CODE: Final = re.compile(r"\d{6}")

# (folded prefix, command): the words after the prefix are the command's argument.
PREFIXES: Final[tuple[tuple[str, Kind], ...]] = (
    ("ho so cua toi", "my_dossiers"),
    ("ho so cua minh", "my_dossiers"),
    ("du lieu cua toi", "my_data"),
    ("xoa du lieu", "erase"),
    ("xoa thong tin", "erase"),
    ("tra cuu", "lookup"),
    ("thu tuc", "procedures"),
    ("dang ky nhan tin", "subscribe"),
    ("dang ky tin", "subscribe"),
    ("huy dang ky", "unsubscribe"),
    ("xac nhan", "confirm_code"),
    ("so dien thoai", "link_phone"),
    ("sdt", "link_phone"),
    ("lien ket", "link_phone"),
    ("huong dan", "help"),
    ("tro giup", "help"),
    ("giup", "help"),
    ("menu", "help"),
)

# The tracking page's scale, as a citizen may type it: 3 rất hài lòng, 2 hài lòng, 1 không.
RATING_WORDS: Final[tuple[tuple[str, int], ...]] = (
    ("rat hai long", 3),
    ("khong hai long", 1),
    ("hai long", 2),
)


@dataclass(frozen=True)
class Command:
    kind: Kind
    argument: str = ""  # what follows the command, as typed (diacritics kept)
    levels: tuple[int, int] | None = None  # a rating: (attitude, result)


def read(text: str, *, rating_pending: bool = False, code_pending: bool = False) -> Command:
    """The command a message carries; anything unrecognised is a question for staff."""
    typed = unicodedata.normalize("NFC", text).strip()
    folded = fold(typed)
    if rating_pending and (levels := rating_levels(folded)) is not None:
        return Command("rating", levels=levels)
    if code_pending and ONE_TIME_CODE.fullmatch(folded.replace(" ", "")):
        return Command("confirm_code", folded.replace(" ", ""))
    for prefix, kind in PREFIXES:
        if folded == prefix or folded.startswith(prefix + " "):
            # "đăng ký tin tức": the topic's own words may begin with "tin".
            consumed = 2 if kind == "subscribe" else len(prefix.split())
            return Command(kind, _after(typed, consumed))
    if (code := DOSSIER_CODE.search(typed)) is not None:
        return Command("lookup", code.group(1))
    if PHONE.fullmatch(typed):
        return Command("link_phone", typed)
    return Command("question", typed)


def rating_levels(folded: str) -> tuple[int, int] | None:
    """'3', '3 2' (attitude, result), 'rất hài lòng' → levels; None if it is not a rating."""
    digits = folded.split()
    if 1 <= len(digits) <= 2 and all(d in ("1", "2", "3") for d in digits):
        first = int(digits[0])
        return first, int(digits[-1])
    for words, level in RATING_WORDS:
        if folded == words:
            return level, level
    return None


def _after(typed: str, count: int) -> str:
    """The typed text after its first `count` words (the command's own words)."""
    parts = typed.split(maxsplit=count)
    return parts[count].strip() if len(parts) > count else ""
