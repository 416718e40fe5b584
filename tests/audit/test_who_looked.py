"""Who looked at my file: the citizen, with the receipt's secret, sees which office opened it."""

from urllib.parse import parse_qs, urlsplit

from motcua.auth.models import Role
from motcua.auth.service import KeyService


def _tracking(dossier):
    url = urlsplit(dossier["tracking_url"])
    return url.path, parse_qs(url.query)["k"][0]


async def test_the_citizen_sees_which_agency_opened_the_dossier_and_when(client, desk, db):
    async with db.platform_session() as session:
        _, key = await KeyService(session).create(
            role=Role.OFFICER, tenant_id=desk.province.id, name="Trần Văn B", agency_code="TT.X.AN"
        )
        await session.commit()
    dossier = await desk.intake()
    code = dossier["code"]
    opened = await client.get(
        f"{desk.base}/dossiers/{code}", headers={"Authorization": f"Bearer {key}"}
    )
    assert opened.status_code == 200
    path, secret = _tracking(dossier)

    tracked = await client.get(f"{desk.base}/track/{code}", params={"k": secret})
    viewers = tracked.json()["viewed_by"]
    assert len(viewers) == 1
    assert set(viewers[0]) == {"agency", "at"}  # the office, never the officer
    assert viewers[0]["agency"] != ""
    page = await client.get(path, params={"k": secret})
    assert "Cơ quan đã mở hồ sơ" in page.text and viewers[0]["agency"] in page.text
    assert "Trần Văn B" not in page.text and "Trần Văn B" not in tracked.text


async def test_without_the_secret_nobody_learns_who_looked(client, desk):
    dossier = await desk.intake()
    code = dossier["code"]
    await client.get(f"{desk.base}/dossiers/{code}", headers=desk.officer)
    path, secret = _tracking(dossier)
    bare = await client.get(f"{desk.base}/track/{code}")
    assert bare.status_code == 200 and bare.json()["viewed_by"] == []
    assert "Cơ quan đã mở hồ sơ" not in (await client.get(path)).text
    wrong = await client.get(f"{desk.base}/track/{code}", params={"k": secret[::-1]})
    assert wrong.status_code == 404 and "viewed_by" not in wrong.text
