"""Bad requests get a clear 4xx problem+json answer, never a 500."""

import pytest

from motcua.auth.models import Role

PROBLEM = "application/problem+json"


def assert_problem(response, status):
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM)
    body = response.json()
    assert body["status"] == status
    assert body["title"] and body["detail"]
    return body


@pytest.fixture
async def admin(make_tenant, make_key):
    province = await make_tenant()
    key = await make_key(Role.ADMIN, province)
    return province, {"Authorization": f"Bearer {key}"}


async def test_unknown_route(client):
    assert_problem(await client.get("/nothing/here"), 404)


async def test_method_not_allowed(client):
    assert_problem(await client.post("/healthz"), 405)


async def test_malformed_json(client, admin):
    province, auth = admin
    response = await client.post(
        f"/t/{province.slug}/api/v1/keys",
        content=b'{"role": ',
        headers={**auth, "content-type": "application/json"},
    )
    assert_problem(response, 400)


async def test_wrong_types_and_unknown_fields_name_the_field(client, admin):
    province, auth = admin
    path = f"/t/{province.slug}/api/v1/keys"
    body = assert_problem(await client.post(path, json={"role": 5}, headers=auth), 400)
    assert "role" in str(body.get("errors")) + body["detail"]
    body = assert_problem(
        await client.post(path, json={"role": "officer", "colour": "red"}, headers=auth), 400
    )
    assert "colour" in str(body.get("errors")) + body["detail"]
    assert_problem(await client.post(path, json={"role": "superuser"}, headers=auth), 400)


async def test_an_oversized_body_is_refused(client, admin, settings):
    province, auth = admin
    big = b'{"role": "officer", "name": "' + b"x" * (settings.max_body_bytes + 10) + b'"}'
    response = await client.post(
        f"/t/{province.slug}/api/v1/keys",
        content=big,
        headers={**auth, "content-type": "application/json"},
    )
    assert_problem(response, 413)


async def test_bad_percent_encoding(client, admin):
    province, auth = admin
    response = await client.delete(f"/t/{province.slug}/api/v1/keys/%E0%A4%A", headers=auth)
    assert 400 <= response.status_code < 500
    assert response.headers["content-type"].startswith(PROBLEM)


async def test_the_problem_names_the_request(client):
    response = await client.get("/nothing", headers={"X-Request-ID": "abcdef123456"})
    assert response.headers["x-request-id"] == "abcdef123456"
    generated = await client.get("/nothing", headers={"X-Request-ID": "<script>"})
    assert generated.headers["x-request-id"] != "<script>"
