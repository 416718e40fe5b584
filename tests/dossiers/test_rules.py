import pytest

from motcua.dossiers.applicants import check_id_number, normalise_phone
from motcua.dossiers.lifecycle import (
    NATIONAL_CODES,
    STATUS_TEXT,
    TRANSITIONS,
    TransitionNotAllowed,
    next_status,
)


@pytest.mark.parametrize(
    "raw", ["0912345678", "0912 345 678", "+84 912.345.678", "84912345678", "(091) 234-5678"]
)
def test_vietnamese_mobiles_are_normalised(raw):
    assert normalise_phone(raw) == "+84912345678"


def test_landlines_are_accepted():
    assert normalise_phone("0296 3852 123") == "+842963852123"


@pytest.mark.parametrize(
    "raw", ["12345", "+1 212 555 0100", "0123456789", "09123456789", "abc", "+8491234567"]
)
def test_numbers_that_are_not_vietnamese_are_refused(raw):
    with pytest.raises(ValueError, match="Vietnamese"):
        normalise_phone(raw)


def test_id_numbers():
    assert check_id_number("001099012345") == "001099012345"
    assert check_id_number("b1234567") == "B1234567"
    with pytest.raises(ValueError):
        check_id_number("12-34")


def test_the_lifecycle_of_design_md():
    assert next_status("received", "start") == "in_progress"
    assert next_status("in_progress", "request_supplement") == "supplement_requested"
    assert next_status("supplement_requested", "supplement_received") == "in_progress"
    assert next_status("in_progress", "complete") == "result_ready"
    assert next_status("result_ready", "return") == "returned"
    assert next_status("in_progress", "reject") == "rejected"
    assert next_status("in_progress", "transfer") == "in_progress"
    for status in ("received", "in_progress", "supplement_requested", "result_ready"):
        assert next_status(status, "withdraw") == "withdrawn"


def test_an_action_that_does_not_fit_names_the_allowed_ones():
    with pytest.raises(TransitionNotAllowed) as caught:
        next_status("received", "complete")
    assert caught.value.extra["allowed_actions"] == ["start", "withdraw", "reschedule", "note"]
    with pytest.raises(TransitionNotAllowed):
        next_status("returned", "withdraw")


def test_every_status_has_a_national_code_and_a_vietnamese_text():
    statuses = {target for target in TRANSITIONS.values()} | {"received"}
    assert statuses == set(NATIONAL_CODES) == set(STATUS_TEXT)
    assert NATIONAL_CODES["returned"] == 10 and NATIONAL_CODES["received"] == 2
