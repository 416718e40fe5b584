"""Reading and checking province packs: every problem at once, with file, line and field."""

import shutil
from pathlib import Path

import pytest

from motcua.tenancy.packs import MAX_PROCEDURES, PackInvalid, read_pack

ROOT = Path(__file__).resolve().parents[2]
FIXTURE = ROOT / "tests" / "fixtures" / "packs" / "tinh-thu"


@pytest.mark.parametrize("slug", ["an-giang", "da-nang", "dong-nai"])
def test_the_demo_packs_are_valid_and_realistic(slug):
    pack = read_pack(ROOT / "tenants" / slug)
    assert pack.tenant.slug == slug
    assert len(pack.procedures) >= 60
    levels = {a.level for a in pack.agencies}
    assert {"province", "department", "commune"} <= levels and "district" not in levels
    assert sum(a.level == "commune" for a in pack.agencies) >= 12
    fields = {p.field for p in pack.procedures}
    assert {"Hộ tịch", "Cư trú", "Đất đai", "Xây dựng"} <= fields
    names = {p.name for p in pack.procedures}
    assert "Đăng ký kết hôn" in names and "Đăng ký khai sinh" in names


@pytest.fixture
def pack(tmp_path):
    target = tmp_path / "pack"
    shutil.copytree(FIXTURE, target)
    return target


def _problems(folder):
    with pytest.raises(PackInvalid) as caught:
        read_pack(folder)
    return [(p.file, p.line, p.field, p.message) for p in caught.value.problems]


def _append(path: Path, text: str):
    path.write_text(path.read_text("utf-8") + text, "utf-8")


def test_every_problem_is_reported_at_once_with_file_line_and_field(pack):
    _append(
        pack / "procedures.csv",
        "1.999999,Thủ tục lạ,Hộ tịch,commune,TT.X.KHONGCO,-3,,Tờ khai,Kết quả,none,\n"
        "1.000894,Trùng mã,Hộ tịch,thôn,TT.X.AN,2,,Tờ khai,Kết quả,none,\n",
    )
    _append(pack / "agencies.csv", "TT.STP,Sở trùng,department,TT\n")
    _append(pack / "calendar.toml", '\n[[holidays]]\ndate = "30/02/2026"\nname = "Sai"\n')
    _append(pack / "tenant.toml", '\n[channels.sms]\napi_key = "khoa-bi-mat-viet-thang"\n')
    problems = _problems(pack)
    assert any(p[0] == "calendar.toml" and "holidays" in p[2] for p in problems)
    assert (
        "procedures.csv",
        7,
        "agency_codes",
        "'TT.X.KHONGCO' is not an agency of the pack",
    ) in problems
    assert ("procedures.csv", 7, "processing_days", "must not be negative") in problems
    assert any(
        p[:3] == ("procedures.csv", 8, "code") and "more than once" in p[3] for p in problems
    )
    assert any(p[:3] == ("procedures.csv", 8, "level") for p in problems)
    assert any(p[:3] == ("agencies.csv", 7, "code") and "more than once" in p[3] for p in problems)
    assert any(
        p[0] == "tenant.toml" and p[2] == "channels.sms.api_key" and p[1] > 0 and "env:" in p[3]
        for p in problems
    )


def test_a_holiday_that_is_not_a_date_is_named(pack):
    _append(pack / "calendar.toml", '\n[[holidays]]\ndate = "ngày mai"\nname = "Sai"\n')
    [(file, _, field, message)] = _problems(pack)
    assert file == "calendar.toml" and "holidays" in field and "date" in message.lower()


def test_a_csv_that_is_not_utf8_is_refused_with_its_line(pack):
    text = (pack / "agencies.csv").read_text("utf-8")
    (pack / "agencies.csv").write_bytes(
        text.encode("utf-8") + "TT.X,Xã Hòa,commune,TT\n".encode("latin-1")
    )  # as an old Windows export would
    [(file, line, _, message)] = _problems(pack)
    assert file == "agencies.csv" and line == 7 and "UTF-8" in message


def test_formula_like_cells_are_refused(pack):
    _append(
        pack / "procedures.csv",
        '9.000001,=HYPERLINK("http://x"),Hộ tịch,commune,TT.X.AN,1,@SUM(1),Tờ khai,KQ,none,\n',
    )
    problems = _problems(pack)
    assert {p[2] for p in problems} == {"name", "fee"}
    assert all("formula" in p[3] for p in problems)


def test_a_file_that_escapes_the_pack_folder_is_refused(pack, tmp_path):
    outside = tmp_path / "secret.csv"
    shutil.copy(pack / "agencies.csv", outside)
    (pack / "agencies.csv").unlink()
    (pack / "agencies.csv").symlink_to(outside)
    assert _problems(pack) == [("agencies.csv", 0, "", "points outside the pack folder")]


def test_a_clear_secret_in_a_nested_table_is_refused(pack):
    _append(
        pack / "tenant.toml",
        '\n[channels.zalo]\napp_id = "1"\naccess_token = "env:TT_ZALO_TOKEN"\n'
        '[channels.zalo.extra]\npassword = "hunter2"\n',
    )
    [(file, _, field, _)] = _problems(pack)
    assert (file, field) == ("tenant.toml", "channels.zalo.extra.password")


def test_huge_packs_are_refused_with_a_clear_limit(pack):
    rows = "".join(
        f"9.{i:06d},Thủ tục {i},Hộ tịch,commune,TT.X.AN,1,,Tờ khai,KQ,none,\n"
        for i in range(MAX_PROCEDURES + 1)
    )
    _append(pack / "procedures.csv", rows)
    [(file, _, _, message)] = _problems(pack)
    assert file == "procedures.csv" and f"more than {MAX_PROCEDURES} rows" in message


def test_missing_files_and_headers_are_named(pack):
    (pack / "agencies.csv").unlink()
    (pack / "procedures.csv").write_text("code,name,colour\n1,A,red\n", "utf-8")
    problems = _problems(pack)
    assert ("agencies.csv", 0, "", "is missing") in problems
    assert any(p[0] == "procedures.csv" and "unknown colour" in p[3] for p in problems)
