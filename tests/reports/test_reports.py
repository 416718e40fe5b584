"""What a viewer reads: the province's dossiers of a period, counted."""

import csv
import io
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from motcua.auth.models import Role
from motcua.dossiers.schemas import Ref
from motcua.reports.routes import CSV_COLUMNS, as_csv
from motcua.reports.schemas import AgencyFigures, DossierReport, Figures
from motcua.reports.service import _figures

PROBLEM = "application/problem+json"
MARCH = {"received_from": "2025-03-03", "received_to": "2025-03-09"}


def figures(total, statuses, *, early=0, on_time=0, late=0, overdue=0, attitude=(), result=()):
    """The expected figures; attitude and result: how many rated 3, 2, 1."""

    def levels(counts):
        counts = (*counts, 0, 0, 0)[:3]
        rated = sum(counts)
        return {
            "rat_hai_long": counts[0],
            "hai_long": counts[1],
            "khong_hai_long": counts[2],
            "rated": rated,
            "satisfaction_rate": round((counts[0] + counts[1]) / rated, 4) if rated else None,
        }

    resolved = early + on_time + late
    codes = {
        "received": (2, "Đã tiếp nhận"),
        "in_progress": (4, "Đang giải quyết"),
        "supplement_requested": (5, "Cần bổ sung hồ sơ"),
        "withdrawn": (7, "Đã rút hồ sơ"),
        "rejected": (8, "Từ chối giải quyết"),
        "result_ready": (9, "Đã có kết quả, mời nhận"),
        "returned": (10, "Đã trả kết quả"),
    }
    return {
        "total": total,
        "statuses": [
            {"status": s, "national_status": n, "text": text, "count": statuses.get(s, 0)}
            for s, (n, text) in codes.items()
        ],
        "timeliness": {
            "resolved": resolved,
            "early": early,
            "on_time": on_time,
            "late": late,
            "on_time_rate": round((early + on_time) / resolved, 4) if resolved else None,
        },
        "overdue": overdue,
        "ratings": {"attitude": levels(attitude), "result": levels(result)},
    }


AN = figures(
    6,
    {
        "in_progress": 1,
        "supplement_requested": 1,
        "withdrawn": 2,
        "result_ready": 1,
        "returned": 1,
    },
    early=1,
    on_time=1,
    overdue=1,
    attitude=(1, 0, 0),
    result=(0, 0, 1),
)
HOA = figures(
    4,
    {"received": 1, "in_progress": 1, "rejected": 1, "returned": 1},
    late=1,
    overdue=2,
    attitude=(0, 1, 0),
    result=(0, 1, 0),
)
ALL = figures(
    10,
    {
        "received": 1,
        "in_progress": 2,
        "supplement_requested": 1,
        "withdrawn": 2,
        "rejected": 1,
        "result_ready": 1,
        "returned": 2,
    },
    early=1,
    on_time=1,
    late=1,
    overdue=3,
    attitude=(1, 1, 0),
    result=(0, 1, 1),
)


@pytest.fixture
async def march(province, onboard, client, make_key):
    """The first week of March 2025 at two communes (three working days each, so a dossier
    received on Monday is promised for Wednesday 17:00), and dossiers that must not count."""
    p = province
    # Xã An Bình. 06:30 local is still Sunday in UTC: the province's day is what counts.
    a1 = await p.intake("TT.X.AN", "2025-03-03T06:30:00+07:00")
    a1 = await p.act(
        a1,
        ("start", "2025-03-03T08:00:00+07:00"),
        ("complete", "2025-03-04T10:00:00+07:00"),
        ("return", "2025-03-04T14:00:00+07:00"),
    )
    assert a1["timeliness"] == "early"
    await p.rate(a1, "rat_hai_long", "khong_hai_long")
    a2 = await p.intake("TT.X.AN", "2025-03-03T08:00:00+07:00")
    a2 = await p.act(
        a2, ("start", "2025-03-03T08:10:00+07:00"), ("complete", "2025-03-05T10:00:00+07:00")
    )
    assert a2["timeliness"] == "on_time"
    a3 = await p.intake("TT.X.AN", "2025-03-04T08:00:00+07:00")  # promised 06/03, never done
    await p.act(a3, ("start", "2025-03-04T08:30:00+07:00"))
    a4 = await p.intake("TT.X.AN", "2025-03-04T09:00:00+07:00")  # waiting for the citizen
    await p.act(
        a4,
        ("start", "2025-03-04T09:30:00+07:00"),
        ("request_supplement", "2025-03-04T10:00:00+07:00", {"note": "Thiếu bản chính"}),
    )
    a5 = await p.intake("TT.X.AN", "2025-03-05T08:00:00+07:00")
    await p.act(a5, ("withdraw", "2025-03-05T09:00:00+07:00", {"note": "Người dân rút"}))
    other = await p.intake("TT.X.AN", "2025-03-06T08:00:00+07:00", procedure="1.000894")
    await p.act(other, ("withdraw", "2025-03-06T09:00:00+07:00", {"note": "Người dân rút"}))

    # Phường Hòa Thuận, and a dossier that An Bình sent there: it counts where it is now.
    h1 = await p.intake("TT.X.HOA", "2025-03-03T08:00:00+07:00")
    h1 = await p.act(
        h1,
        ("start", "2025-03-03T09:00:00+07:00"),
        ("complete", "2025-03-07T10:00:00+07:00"),
        ("return", "2025-03-07T11:00:00+07:00"),
    )
    assert h1["timeliness"] == "late"
    await p.rate(h1, "hai_long", "hai_long")
    h2 = await p.intake("TT.X.AN", "2025-03-05T08:00:00+07:00")
    await p.act(
        h2,
        ("start", "2025-03-05T08:30:00+07:00"),
        ("transfer", "2025-03-05T09:00:00+07:00", {"agency_code": "TT.X.HOA"}),
    )
    h3 = await p.intake("TT.X.HOA", "2025-03-06T08:00:00+07:00")
    await p.act(
        h3,
        ("start", "2025-03-06T08:30:00+07:00"),
        ("reject", "2025-03-06T09:00:00+07:00", {"note": "Không thuộc thẩm quyền"}),
    )
    await p.intake("TT.X.HOA", "2025-03-09T23:30:00+07:00")  # Sunday night: still the 9th

    # Not in the week (local days), a test key's dossier, another province's dossiers.
    await p.intake("TT.X.AN", "2025-03-10T00:10:00+07:00")  # the 9th in UTC
    await p.intake("TT.X.HOA", "2025-03-02T23:00:00+07:00")
    sandbox = await p.key(Role.INTEGRATION, test=True)
    await p.intake("TT.X.AN", "2025-03-04T08:00:00+07:00", headers=sandbox)
    elsewhere = await onboard()  # the same pack: the same agency codes, its own dossiers
    theirs = {"Authorization": f"Bearer {await make_key(Role.OFFICER, elsewhere)}"}
    for day in ("2025-03-03", "2025-03-04"):
        taken = await client.post(
            f"/t/{elsewhere.slug}/api/v1/dossiers",
            json={
                "procedure_code": "1.000894",
                "agency_code": "TT.X.AN",
                "received_at": f"{day}T08:00:00+07:00",
                "applicant": {"full_name": "Phạm Văn Nam"},
            },
            headers=theirs,
        )
        assert taken.status_code == 201, taken.text
    return p, elsewhere


async def test_every_figure_of_the_week_is_counted_exactly(march):
    p, _ = march
    response = await p.report(**MARCH)
    assert response.status_code == 200, response.text
    report = response.json()
    assert report["received_from"] == "2025-03-03" and report["received_to"] == "2025-03-09"
    assert report["timezone"] == "Asia/Ho_Chi_Minh"
    assert report["agency"] is None and report["procedure"] is None
    assert report["totals"] == ALL
    assert [a.pop("agency") for a in report["agencies"]] == [
        {"code": "TT.X.AN", "name": "Ủy ban nhân dân xã An Bình"},
        {"code": "TT.X.HOA", "name": "Ủy ban nhân dân phường Hòa Thuận"},
    ]
    assert report["agencies"] == [AN, HOA]


async def test_filters_by_agency_and_procedure(march):
    p, _ = march
    hoa = (await p.report(agency="TT.X.HOA", **MARCH)).json()
    assert hoa["agency"] == "TT.X.HOA" and hoa["totals"] == HOA
    assert [a["agency"]["code"] for a in hoa["agencies"]] == ["TT.X.HOA"]
    other = (await p.report(procedure="1.000894", **MARCH)).json()
    assert other["totals"] == figures(1, {"withdrawn": 1})
    nothing = (await p.report(procedure="0.000000", **MARCH)).json()
    assert nothing["totals"] == figures(0, {}) and nothing["agencies"] == []


async def test_each_province_counts_only_its_own_dossiers(march, client, make_key):
    _, elsewhere = march
    admin = {"Authorization": f"Bearer {await make_key(Role.ADMIN, elsewhere)}"}
    response = await client.get(
        f"/t/{elsewhere.slug}/api/v1/reports/dossiers", params=MARCH, headers=admin
    )
    assert response.status_code == 200
    theirs = response.json()
    assert theirs["totals"] == figures(2, {"received": 2}, overdue=2)
    assert [a["agency"]["code"] for a in theirs["agencies"]] == ["TT.X.AN"]


async def test_a_viewer_narrowed_to_a_commune_sees_only_it(march):
    p, _ = march
    an = await p.key(Role.VIEWER, "TT.X.AN")
    report = (await p.report(headers=an, **MARCH)).json()
    assert report["totals"] == AN
    assert [a["agency"]["code"] for a in report["agencies"]] == ["TT.X.AN"]
    # Another commune, asked for by name, is as empty as in the dossier list.
    hoa = (await p.report(headers=an, agency="TT.X.HOA", **MARCH)).json()
    assert hoa["totals"] == figures(0, {}) and hoa["agencies"] == []
    csv_rows = (await p.report(headers=an, path="reports/dossiers.csv", **MARCH)).text
    assert "TT.X.HOA" not in csv_rows and "TT.X.AN" in csv_rows


async def test_viewers_officers_and_admins_read_it_integration_keys_do_not(province):
    p = province
    for role in (Role.VIEWER, Role.OFFICER, Role.ADMIN):
        assert (await p.report(headers=await p.key(role), **MARCH)).status_code == 200
    for path in ("reports/dossiers", "reports/dossiers.csv"):
        refused = await p.report(headers=await p.key(Role.INTEGRATION), path=path, **MARCH)
        assert refused.status_code == 403
        assert refused.headers["content-type"].startswith(PROBLEM)
    assert (await p.report(headers={}, **MARCH)).status_code == 401


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"received_from": "2025-02-30"}, "received_from"),
        ({"received_from": "03/03/2025"}, "received_from"),
        ({"received_to": "20250309"}, "received_to"),
        ({"received_from": "2025-03-10", "received_to": "2025-03-09"}, "received_from"),
        ({"received_from": "2024-01-01", "received_to": "2025-01-01"}, "received_to"),
    ],
)
async def test_bad_dates_are_a_422_problem(province, params, field):
    for path in ("reports/dossiers", "reports/dossiers.csv"):
        response = await province.report(path=path, **params)
        assert response.status_code == 422, response.text
        assert response.headers["content-type"].startswith(PROBLEM)
        assert [e["field"] for e in response.json()["errors"]] == [field]


@pytest.mark.parametrize("days", [("9999-12-30", "9999-12-31"), ("0001-01-01", "0001-01-02")])
async def test_days_at_the_ends_of_the_calendar_are_a_422_problem(province, days):
    response = await province.report(received_from=days[0], received_to=days[1])
    assert response.status_code == 422, response.text
    assert [e["field"] for e in response.json()["errors"]] == ["received_from", "received_to"]


async def test_a_whole_leap_year_is_the_longest_period(province):
    response = await province.report(received_from="2024-01-01", received_to="2024-12-31")
    assert response.status_code == 200


async def test_by_default_the_current_month_so_far(province):
    today = datetime.now(ZoneInfo("Asia/Ho_Chi_Minh")).date()
    report = (await province.report()).json()
    assert report["received_from"] == today.replace(day=1).isoformat()
    assert report["received_to"] == today.isoformat()


async def test_the_csv_has_a_bom_a_header_and_one_row_per_agency(march):
    p, _ = march
    response = await p.report(path="reports/dossiers.csv", **MARCH)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert "attachment" in response.headers["content-disposition"]
    assert response.content.startswith(b"\xef\xbb\xbf")
    header, *rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert header == CSV_COLUMNS
    assert [row[:3] for row in rows] == [
        ["TT.X.AN", "Ủy ban nhân dân xã An Bình", "6"],
        ["TT.X.HOA", "Ủy ban nhân dân phường Hòa Thuận", "4"],
    ]
    an = dict(zip(header, rows[0], strict=True))
    assert an["withdrawn_7"] == "2" and an["returned_10"] == "1"
    assert (an["resolved"], an["early"], an["on_time"], an["late"]) == ("2", "1", "1", "0")
    assert an["on_time_rate"] == "1.0" and an["overdue"] == "1"
    assert (an["attitude_3"], an["attitude_rated"], an["attitude_satisfaction_rate"]) == (
        "1",
        "1",
        "1.0",
    )
    assert (an["result_1"], an["result_satisfaction_rate"]) == ("1", "0.0")
    hoa = dict(zip(header, rows[1], strict=True))
    assert hoa["received_2"] == "1" and hoa["on_time_rate"] == "0.0" and hoa["overdue"] == "2"


def test_a_csv_cell_never_runs_as_a_formula():
    day = date(2025, 3, 1)
    nothing = _figures(None)
    report = DossierReport(
        received_from=day,
        received_to=day,
        timezone="Asia/Ho_Chi_Minh",
        agency=None,
        procedure=None,
        generated_at=datetime(2025, 3, 1, tzinfo=UTC),
        totals=Figures(**nothing),
        agencies=[AgencyFigures(agency=Ref(code="X", name='=HYPERLINK("http://x")'), **nothing)],
    )
    [_, row] = list(csv.reader(io.StringIO(as_csv(report).decode("utf-8-sig"))))
    assert row[1] == '\'=HYPERLINK("http://x")'
    assert row[2] == "0" and row[CSV_COLUMNS.index("on_time_rate")] == ""
