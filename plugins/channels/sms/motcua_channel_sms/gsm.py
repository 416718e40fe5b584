"""Whether a text fits the GSM 7-bit alphabet, and folding Vietnamese into it.

A GSM part carries 160 characters (153 when concatenated); one character outside the
alphabet turns the whole message into UCS-2, 70 (67) a part: more than twice the price.
"""

from __future__ import annotations

import unicodedata
from typing import Final

# GSM 03.38 default alphabet (without the escape code) and its extension table.
GSM_BASIC: Final = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM_EXTENSION: Final = frozenset("\f^{}\\[~]|€")

# The only Vietnamese letters that do not decompose into an ASCII letter and marks.
_UNDECOMPOSABLE: Final = {"đ": "d", "Đ": "D"}


def is_gsm(text: str) -> bool:
    return all(char in GSM_BASIC or char in GSM_EXTENSION for char in text)


def fold_diacritics(text: str) -> str:
    """Vietnamese without its marks ("Hồ sơ đã có kết quả" → "Ho so da co ket qua").

    Only Latin letters with marks are folded; any other character is kept as it is, so the
    caller still sees that the text needs UCS-2 rather than losing it silently.
    """
    return "".join(_fold(char) for char in unicodedata.normalize("NFC", text))


def _fold(char: str) -> str:
    if char in _UNDECOMPOSABLE:
        return _UNDECOMPOSABLE[char]
    decomposed = unicodedata.normalize("NFD", char)
    base, marks = decomposed[0], decomposed[1:]
    if marks and base.isascii() and all(unicodedata.combining(mark) for mark in marks):
        return base
    return char
