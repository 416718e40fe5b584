"""Vietnamese folding: one form of a text for search, without diacritics or case.

"ĐĂNG KÝ KẾT HÔN", "Đăng ký kết hôn" and "dang ky ket hon" all fold to "dang ky ket hon".
Done once in Python: the folded text is stored and indexed, and queries are folded alike.
"""

from __future__ import annotations

import re
import unicodedata

_WORD = re.compile(r"[a-z0-9]+")
# đ/Đ is a letter of its own, not d with a mark: NFD leaves it whole.
_STROKES = str.maketrans({"đ": "d", "Đ": "d"})


def fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFD", text.translate(_STROKES))
    bare = "".join(ch for ch in decomposed if not unicodedata.combining(ch)).lower()
    return " ".join(_WORD.findall(bare))


def words(text: str, limit: int = 12) -> list[str]:
    """The folded words of a query, at most ``limit`` of them."""
    return fold(text).split()[:limit]
