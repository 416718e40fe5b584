"""Citizens search a province's catalogue, with or without diacritics."""

import pytest

from motcua.auth.models import Role
from motcua.catalog.schemas import ProcedureIn

PROBLEM = "application/problem+json"


@pytest.fixture
async def province(onboard):
    return await onboard()


async def _search(client, province, **params):
    response = await client.get(f"/t/{province.slug}/api/v1/procedures", params=params)
    assert response.status_code == 200, response.text
    return response.json()


@pytest.mark.parametrize(
    "q", ["dang ky ket hon", "ĐĂNG KÝ KẾT HÔN", "Đăng ký kết hôn", "ket hon", "dang ky ket"]
)
async def test_marriage_registration_comes_first_however_it_is_typed(client, province, q):
    found = await _search(client, province, q=q)
    assert found["items"][0]["name"] == "Đăng ký kết hôn"
    names = [p["name"] for p in found["items"]]
    assert "Đăng ký lại kết hôn" in names
    assert "Cấp giấy phép xây dựng nhà ở riêng lẻ" not in names


async def test_name_matches_rank_above_matches_in_other_fields(client, onboard):
    from motcua.tenancy.packs import read_pack
    from tests.conftest import FIXTURE_PACK

    extra = ProcedureIn(
        code="9.000002",
        name="Cấp bản sao trích lục hộ tịch",
        field="Hộ tịch",
        level="commune",
        agency_codes=["TT.X.AN"],
        processing_days="1",
        documents=["Bản sao giấy chứng nhận kết hôn"],
    )
    pack = read_pack(FIXTURE_PACK)
    province = await onboard(procedures=[*pack.procedures, extra])
    names = [p["name"] for p in (await _search(client, province, q="ket hon"))["items"]]
    assert names.index("Cấp bản sao trích lục hộ tịch") > names.index("Đăng ký lại kết hôn")


async def test_a_procedure_says_what_to_prepare(client, province):
    response = await client.get(f"/t/{province.slug}/api/v1/procedures/2.001757")
    assert response.status_code == 200
    body = response.json()
    assert body["documents"] == ["Đơn đề nghị cấp giấy phép xây dựng", "Bản vẽ thiết kế"]
    assert body["fee"] == "75.000 đồng"
    assert body["processing_time"] == {
        "working_days": 15.0,
        "working_hours": 120,
        "text": "15 ngày làm việc",
    }
    assert body["agencies"] == [{"code": "TT.SXD", "name": "Sở Xây dựng tỉnh Thử"}]
    assert body["result"] == "Giấy phép xây dựng" and body["online_level"] == "partial"
    same_day = await client.get(f"/t/{province.slug}/api/v1/procedures/2.000815")
    assert same_day.json()["processing_time"]["text"] == "4 giờ làm việc"


async def test_filters_by_field_level_and_agency(client, province):
    civil = await _search(client, province, field="ho tich")
    assert civil["total"] == 3 and {p["field"] for p in civil["items"]} == {"Hộ tịch"}
    province_level = await _search(client, province, level="province")
    assert [p["code"] for p in province_level["items"]] == ["2.001757"]
    at_hoa = await _search(client, province, agency="TT.X.HOA")
    assert {p["code"] for p in at_hoa["items"]} == {"1.000894", "1.001193", "2.000815"}


async def test_pages_are_stable_and_complete(client, province):
    whole = await _search(client, province, per_page=100)
    pages = [await _search(client, province, page=n, per_page=2) for n in (1, 2, 3)]
    codes = [p["code"] for page in pages for p in page["items"]]
    assert codes == [p["code"] for p in whole["items"]]
    assert all(page["total"] == 5 for page in pages)
    beyond = await _search(client, province, page=9, per_page=2)
    assert beyond["items"] == [] and beyond["total"] == 5


@pytest.mark.parametrize(
    "q",
    [
        "'; DROP TABLE procedures; --",
        "%_\\",
        "(a|b)*+?[",
        "&!:*<->",
        "😀 kết hôn",
        "\u0000\u200b",
        "x" * 200,
    ],
)
async def test_any_search_text_is_safe(client, province, q):
    response = await client.get(f"/t/{province.slug}/api/v1/procedures", params={"q": q})
    assert response.status_code == 200


async def test_over_long_searches_and_bad_paging_are_4xx(client, province):
    path = f"/t/{province.slug}/api/v1/procedures"
    for params in ({"q": "x" * 201}, {"page": 0}, {"per_page": 1000}, {"page": "abc"}):
        response = await client.get(path, params=params)
        assert response.status_code == 400, params
        assert response.headers["content-type"].startswith(PROBLEM)


async def test_unknown_province_and_procedure_are_404(client, province):
    assert (await client.get("/t/khong-co/api/v1/procedures")).status_code == 404
    missing = await client.get(f"/t/{province.slug}/api/v1/procedures/9.999999")
    assert missing.status_code == 404
    assert missing.headers["content-type"].startswith(PROBLEM)


async def test_one_province_never_sees_anothers_catalogue(client, onboard, make_key):
    a, b = await onboard(), await onboard()
    admin_b = {"Authorization": f"Bearer {await make_key(Role.ADMIN, b)}"}
    created = await client.put(
        f"/t/{b.slug}/api/v1/procedures/7.000001",
        headers=admin_b,
        json={
            "name": "Thủ tục riêng của tỉnh B",
            "field": "Khác",
            "level": "province",
            "agency_codes": ["TT.STP"],
            "processing_days": "3",
        },
    )
    assert created.status_code == 200, created.text
    assert (await _search(client, a, q="rieng cua tinh"))["total"] == 0
    assert (await client.get(f"/t/{a.slug}/api/v1/procedures/7.000001")).status_code == 404
    assert (await _search(client, b, q="rieng cua tinh"))["total"] == 1


async def test_the_agency_tree_lists_parents_before_children(client, province):
    response = await client.get(f"/t/{province.slug}/api/v1/agencies")
    items = response.json()["items"]
    assert [(a["code"], a["depth"]) for a in items] == [
        ("TT", 0),
        ("TT.STP", 1),
        ("TT.SXD", 1),
        ("TT.X.AN", 1),
        ("TT.X.HOA", 1),
    ]
    communes = await client.get(f"/t/{province.slug}/api/v1/agencies", params={"level": "commune"})
    assert [a["code"] for a in communes.json()["items"]] == ["TT.X.AN", "TT.X.HOA"]


async def test_admins_edit_one_procedure_with_the_rules_of_packs(client, province, make_key):
    admin = {"Authorization": f"Bearer {await make_key(Role.ADMIN, province)}"}
    officer = {"Authorization": f"Bearer {await make_key(Role.OFFICER, province)}"}
    path = f"/t/{province.slug}/api/v1/procedures/1.004873"
    edit = {
        "name": "Đăng ký lại kết hôn",
        "field": "Hộ tịch",
        "level": "commune",
        "agency_codes": ["TT.X.AN", "TT.X.HOA"],
        "processing_days": "3",
        "fee": "30.000 đồng",
        "documents": ["Tờ khai"],
    }
    assert (await client.put(path, json=edit)).status_code == 401
    assert (await client.put(path, json=edit, headers=officer)).status_code == 403
    changed = await client.put(path, json=edit, headers=admin)
    assert changed.status_code == 200
    assert [a["code"] for a in changed.json()["agencies"]] == ["TT.X.AN", "TT.X.HOA"]
    assert changed.json()["processing_time"]["working_days"] == 3

    bad = await client.put(
        path,
        headers=admin,
        json={**edit, "agency_codes": ["KHONG.CO"], "processing_days": "-1", "fee": "=1+1"},
    )
    assert bad.status_code == 422
    fields = {e["field"] for e in bad.json()["errors"]}
    assert fields == {"processing_days", "fee"}  # agencies are checked once the rest is valid
    unknown_agency = await client.put(
        path, headers=admin, json={**edit, "agency_codes": ["KHONG.CO"]}
    )
    assert unknown_agency.status_code == 422
    assert unknown_agency.json()["errors"][0]["field"] == "agency_codes"
    assert (await client.get(path)).json()["processing_time"]["working_days"] == 3

    retired = await client.delete(path, headers=admin)
    assert retired.status_code == 200 and retired.json()["active"] is False
    names = [p["name"] for p in (await _search(client, province, q="ket hon"))["items"]]
    assert names == ["Đăng ký kết hôn"]


async def test_admins_edit_agencies_without_breaking_the_tree(client, province, make_key):
    admin = {"Authorization": f"Bearer {await make_key(Role.ADMIN, province)}"}
    base = f"/t/{province.slug}/api/v1/agencies"
    added = await client.put(
        f"{base}/TT.X.MOI",
        headers=admin,
        json={"name": "Ủy ban nhân dân xã Mới", "level": "commune", "parent_code": "TT"},
    )
    assert added.status_code == 200 and added.json()["depth"] == 1
    cycle = await client.put(
        f"{base}/TT",
        headers=admin,
        json={"name": "Ủy ban nhân dân tỉnh Thử", "level": "province", "parent_code": "TT.X.MOI"},
    )
    assert cycle.status_code == 422
    assert (await client.delete(f"{base}/TT", headers=admin)).status_code == 422
    assert (await client.delete(f"{base}/TT.X.MOI", headers=admin)).status_code == 200
    codes = [a["code"] for a in (await client.get(base)).json()["items"]]
    assert "TT.X.MOI" not in codes


async def test_a_change_shows_at_once_in_cached_answers(client, province, make_key):
    admin = {"Authorization": f"Bearer {await make_key(Role.ADMIN, province)}"}
    before = await _search(client, province, q="xay dung")
    assert before["total"] == 1
    assert (await _search(client, province, q="xay dung")) == before  # served from the cache
    retired = await client.delete(f"/t/{province.slug}/api/v1/procedures/2.001757", headers=admin)
    assert retired.status_code == 200
    assert (await _search(client, province, q="xay dung"))["total"] == 0
    one = await client.get(f"/t/{province.slug}/api/v1/procedures/2.001757")
    assert one.json()["active"] is False
