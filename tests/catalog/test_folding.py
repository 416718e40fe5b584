import pytest

from motcua.catalog.folding import fold, words


@pytest.mark.parametrize(
    "text",
    ["Đăng ký kết hôn", "ĐĂNG KÝ KẾT HÔN", "dang ky ket hon", "  Đăng   ký, kết-hôn! "],
)
def test_every_spelling_folds_to_the_same_words(text):
    assert fold(text) == "dang ky ket hon"


def test_d_with_stroke_and_all_tone_marks_fold():
    assert fold("Đồng Đức ĐẠT đường Ưu Ơn ỹ ẵ") == "dong duc dat duong uu on y a"


def test_decomposed_unicode_folds_like_composed():
    import unicodedata

    assert fold(unicodedata.normalize("NFD", "Thường trú")) == "thuong tru"


def test_symbols_and_sql_are_dropped_not_kept():
    assert fold("'; DROP TABLE x; -- %_\\ (a|b)*") == "drop table x a b"


def test_query_words_are_bounded():
    assert len(words("từ " * 1000)) == 12
