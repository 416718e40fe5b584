from types import SimpleNamespace

import pytest

from motcua.auth.models import Role
from motcua.auth.service import KeyService

PROCEDURE = "9.300001"  # three working days, at both communes of the test pack


@pytest.fixture
async def province(client, db, onboard):
    """A province with the test pack, a three-day procedure, keys of every role, over HTTP."""
    found = await onboard()

    async def key(role, agency=None, test=False):
        async with db.platform_session() as session:
            _, plaintext = await KeyService(session).create(
                role=role, tenant_id=found.id, agency_code=agency, test=test
            )
            await session.commit()
        return {"Authorization": f"Bearer {plaintext}"}

    officer, admin = await key(Role.OFFICER), await key(Role.ADMIN)
    base = f"/t/{found.slug}/api/v1"
    response = await client.put(
        f"{base}/procedures/{PROCEDURE}",
        headers=admin,
        json={
            "name": "Chứng thực bản sao",
            "field": "Chứng thực",
            "level": "commune",
            "agency_codes": ["TT.X.AN", "TT.X.HOA"],
            "processing_days": "3",
        },
    )
    assert response.status_code == 200, response.text

    async def intake(agency, received_at, procedure=PROCEDURE, headers=None):
        response = await client.post(
            f"{base}/dossiers",
            json={
                "procedure_code": procedure,
                "agency_code": agency,
                "received_at": received_at,
                "applicant": {"full_name": "Lê Thị Mai", "phone": "0912 345 678"},
            },
            headers=headers or officer,
        )
        assert response.status_code == 201, response.text
        return response.json()

    async def act(dossier, *steps):
        """Steps are (action, local time) or (action, local time, extra fields)."""
        for action, at, *extra in steps:
            response = await client.post(
                f"{base}/dossiers/{dossier['code']}/events",
                json={"action": action, "at": at, **(extra[0] if extra else {})},
                headers=officer,
            )
            assert response.status_code == 200, response.text
        return response.json()

    async def rate(dossier, attitude, result):
        key = dossier["tracking_url"].split("k=", 1)[1]
        response = await client.post(
            f"{base}/track/{dossier['code']}/rating",
            params={"k": key},
            json={"attitude": attitude, "result": result},
        )
        assert response.status_code == 200, response.text

    async def report(headers=None, path="reports/dossiers", **params):
        return await client.get(
            f"{base}/{path}", params=params, headers=admin if headers is None else headers
        )

    return SimpleNamespace(
        tenant=found,
        base=base,
        key=key,
        officer=officer,
        admin=admin,
        intake=intake,
        act=act,
        rate=rate,
        report=report,
    )
