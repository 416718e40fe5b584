import pytest

from motcua.catalog.rules import procedure_problems, processing_hours, processing_text
from motcua.catalog.schemas import ProcedureIn


@pytest.mark.parametrize(
    ("value", "hours"),
    [("15", 120), (15, 120), ("0.5", 4), ("4h", 4), ("0", 0), (" 3 ", 24), ("12H", 12)],
)
def test_processing_time_in_working_days_or_hours(value, hours):
    assert processing_hours(value) == hours


@pytest.mark.parametrize("value", ["-1", "abc", "0.3", "nan", "inf", "1e9", "-4h", ""])
def test_bad_processing_times_are_refused(value):
    with pytest.raises(ValueError):
        processing_hours(value)


def test_processing_time_reads_in_vietnamese():
    assert processing_text(0) == "Trong ngày"
    assert processing_text(4) == "4 giờ làm việc"
    assert processing_text(120) == "15 ngày làm việc"


def _procedure(**changes):
    base = dict(
        code="1.000894",
        name="Đăng ký kết hôn",
        field="Hộ tịch",
        level="commune",
        agency_codes=["X1"],
        processing_days="3",
    )
    return ProcedureIn(**(base | changes))


def test_a_good_procedure_has_no_problem():
    assert procedure_problems(_procedure()) == []


def test_every_problem_is_named_with_its_field():
    problems = dict(
        procedure_problems(
            _procedure(
                code="bad code!",
                name=" ",
                level="thôn",
                agency_codes=[],
                processing_days="-2",
                online_level="maybe",
                fee="=cmd|' /C calc'!A0",
            )
        )
    )
    assert set(problems) == {
        "code",
        "name",
        "level",
        "agency_codes",
        "processing_days",
        "online_level",
        "fee",
    }
    assert "formula" in problems["fee"]
