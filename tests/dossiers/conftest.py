from types import SimpleNamespace

import pytest

from motcua.auth.models import Role


@pytest.fixture
async def desk(client, onboard, make_key):
    """A province with the test pack, an officer and an integration, over HTTP."""
    province = await onboard()
    officer = {"Authorization": f"Bearer {await make_key(Role.OFFICER, province)}"}
    integration = {"Authorization": f"Bearer {await make_key(Role.INTEGRATION, province)}"}
    admin = {"Authorization": f"Bearer {await make_key(Role.ADMIN, province)}"}
    base = f"/t/{province.slug}/api/v1"

    async def intake(procedure="1.000894", received_at=None, expect=201, **extra):
        body = {
            "procedure_code": procedure,
            "applicant": {
                "full_name": "Nguyễn Thị Hoa",
                "phone": "0912 345 678",
                "email": "hoa@example.vn",
                "id_number": "001099012345",
            },
            **extra,
        }
        if received_at:
            body["received_at"] = received_at
        response = await client.post(f"{base}/dossiers", json=body, headers=officer)
        assert response.status_code == expect, response.text
        return response.json()

    async def act(code, action, expect=200, headers=None, **extra):
        response = await client.post(
            f"{base}/dossiers/{code}/events",
            json={"action": action, **extra},
            headers={**officer, **(headers or {})},
        )
        assert response.status_code == expect, response.text
        return response.json()

    async def procedure(code, days, agencies=("TT.X.AN",), name=None):
        response = await client.put(
            f"{base}/procedures/{code}",
            headers=admin,
            json={
                "name": name or f"Thủ tục {code}",
                "field": "Hộ tịch",
                "level": "commune",
                "agency_codes": list(agencies),
                "processing_days": str(days),
            },
        )
        assert response.status_code == 200, response.text

    return SimpleNamespace(
        province=province,
        officer=officer,
        integration=integration,
        admin=admin,
        base=base,
        intake=intake,
        act=act,
        procedure=procedure,
    )
