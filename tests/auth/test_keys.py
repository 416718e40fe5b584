"""API keys over HTTP: shown once, hashed, revocable, and never valid in another province."""

from sqlalchemy import select

from motcua.auth.models import ApiKey, Role

PROBLEM = "application/problem+json"


def bearer(key):
    return {"Authorization": f"Bearer {key}"}


async def test_an_admin_key_works_on_its_own_province(client, make_tenant, make_key):
    a = await make_tenant()
    key = await make_key(Role.ADMIN, a)
    response = await client.get(f"/t/{a.slug}/api/v1/keys", headers=bearer(key))
    assert response.status_code == 200, response.text
    assert [k["role"] for k in response.json()["items"]] == ["admin"]


async def test_a_key_of_one_province_is_refused_on_another(client, make_tenant, make_key):
    a, b = await make_tenant(), await make_tenant()
    key_a = await make_key(Role.ADMIN, a)
    response = await client.get(f"/t/{b.slug}/api/v1/keys", headers=bearer(key_a))
    assert response.status_code == 403
    assert response.headers["content-type"].startswith(PROBLEM)
    assert "items" not in response.json()


async def test_missing_wrong_and_revoked_keys_are_401(client, make_tenant, make_key):
    a = await make_tenant()
    path = f"/t/{a.slug}/api/v1/keys"
    assert (await client.get(path)).status_code == 401
    assert (await client.get(path, headers=bearer("mc_nothing_here"))).status_code == 401
    assert (await client.get(path, headers={"Authorization": "Basic abc"})).status_code == 401

    admin = await make_key(Role.ADMIN, a)
    created = await client.post(
        path, json={"role": "integration", "name": "một cửa cũ"}, headers=bearer(admin)
    )
    assert created.status_code == 201, created.text
    integration = created.json()["key"]
    key_id = created.json()["id"]
    revoked = await client.delete(f"{path}/{key_id}", headers=bearer(admin))
    assert revoked.status_code == 200 and revoked.json()["revoked_at"]
    response = await client.get(path, headers=bearer(integration))
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"


async def test_keys_are_stored_hashed_and_listed_without_secrets(client, db, make_tenant, make_key):
    a = await make_tenant()
    admin = await make_key(Role.ADMIN, a)
    listing = (await client.get(f"/t/{a.slug}/api/v1/keys", headers=bearer(admin))).json()
    assert "key" not in listing["items"][0]
    async with db.platform_session() as session:
        stored = (await session.scalars(select(ApiKey).where(ApiKey.tenant_id == a.id))).one()
    assert admin.split("_", 2)[2].encode() not in stored.secret_hash
    assert len(stored.secret_hash) == 32


async def test_roles_are_enforced(client, make_tenant, make_key):
    a = await make_tenant()
    officer = await make_key(Role.OFFICER, a)
    operator = await make_key(Role.OPERATOR)
    path = f"/t/{a.slug}/api/v1/keys"
    assert (await client.get(path, headers=bearer(officer))).status_code == 403
    assert (await client.get(path, headers=bearer(operator))).status_code == 403
    platform = "/api/v1/platform/tenants"
    assert (await client.get(platform, headers=bearer(officer))).status_code == 403
    listed = await client.get(platform, headers=bearer(operator))
    assert listed.status_code == 200
    assert a.slug in [t["slug"] for t in listed.json()["items"]]


async def test_an_admin_cannot_revoke_another_provinces_key(client, make_tenant, make_key):
    a, b = await make_tenant(), await make_tenant()
    admin_a = await make_key(Role.ADMIN, a)
    admin_b = await make_key(Role.ADMIN, b)
    listing = await client.get(f"/t/{b.slug}/api/v1/keys", headers=bearer(admin_b))
    key_b = listing.json()["items"][0]["id"]
    response = await client.delete(f"/t/{a.slug}/api/v1/keys/{key_b}", headers=bearer(admin_a))
    assert response.status_code == 404
    still = await client.get(f"/t/{b.slug}/api/v1/keys", headers=bearer(admin_b))
    assert still.status_code == 200


async def test_a_suspended_province_closes_its_staff_routes(client, app, make_tenant, make_key):
    from motcua.tenancy.models import TenantStatus
    from motcua.tenancy.service import TenantService

    a = await make_tenant()
    admin = await make_key(Role.ADMIN, a)
    await TenantService(app.state.services.db).set_status(a.slug, TenantStatus.SUSPENDED)
    app.state.services.directory.invalidate()
    response = await client.get(f"/t/{a.slug}/api/v1/keys", headers=bearer(admin))
    assert response.status_code == 403
    assert "suspended" in response.json()["detail"]


async def test_the_province_domain_reaches_the_same_routes(client, make_tenant, make_key):
    a = await make_tenant()
    admin = await make_key(Role.ADMIN, a)
    response = await client.get("/api/v1/keys", headers={**bearer(admin), "Host": a.domain})
    assert response.status_code == 200, response.text
    unknown = await client.get(
        "/api/v1/keys", headers={**bearer(admin), "Host": "nowhere.example.org"}
    )
    assert unknown.status_code == 404
    assert unknown.headers["content-type"].startswith(PROBLEM)
    # The pages' stylesheet, which every page links as /static/…, is there too.
    page = await client.get("/static/motcua.css", headers={"Host": a.domain})
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/css")


async def test_an_unknown_province_is_404(client, make_key):
    operator = await make_key(Role.OPERATOR)
    response = await client.get("/t/khong-co/api/v1/keys", headers=bearer(operator))
    assert response.status_code == 404
