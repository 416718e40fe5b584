"""What an operator watches: the OpenAPI schema, Prometheus metrics and JSON logs."""

import json
import logging

from motcua.auth.models import Role
from motcua.logs import JsonFormatter


async def test_the_openapi_schema_documents_tenant_and_platform_routes(client):
    response = await client.get("/schema/openapi.json")
    assert response.status_code == 200
    paths = response.json()["paths"]
    assert "/t/{slug}/api/v1/keys" in paths
    assert "/api/v1/platform/tenants" in paths
    assert (await client.get("/schema")).status_code == 200  # the docs page


async def test_metrics_count_requests_by_route_and_tenant(client, make_tenant, make_key):
    a = await make_tenant()
    key = await make_key(Role.ADMIN, a)
    await client.get(f"/t/{a.slug}/api/v1/keys", headers={"Authorization": f"Bearer {key}"})
    metrics = (await client.get("/metrics")).text
    counted = [
        line
        for line in metrics.splitlines()
        if line.startswith("motcua_requests_total") and f'tenant="{a.slug}"' in line
    ]
    assert counted and 'path="/t/{slug}/api/v1/keys"' in counted[0]
    assert "motcua_request_duration_seconds_bucket" in metrics
    # Each answer's status is its own series; nothing stays "in progress" once answered.
    await client.get(f"/t/{a.slug}/api/v1/keys")  # no key: 401
    lines = (await client.get("/metrics")).text.splitlines()
    mine = [line for line in lines if f'tenant="{a.slug}"' in line and "/api/v1/keys" in line]
    assert any(
        line.startswith("motcua_requests_total") and 'status_code="401"' in line for line in mine
    )
    in_progress = [line for line in mine if line.startswith("motcua_requests_in_progress")]
    assert in_progress and all(line.endswith(" 0.0") for line in in_progress)


async def test_access_logs_are_json_with_request_id_and_tenant_never_the_query(
    client, make_tenant, caplog
):
    a = await make_tenant()
    with caplog.at_level(logging.INFO, logger="motcua.access"):
        await client.get(
            f"/t/{a.slug}/api/v1/keys?k=secret-tracking-key",
            headers={"X-Request-ID": "req-12345678"},
        )
    [record] = [r for r in caplog.records if r.name == "motcua.access"]
    line = json.loads(JsonFormatter().format(record))
    assert line["request_id"] == "req-12345678"
    assert line["tenant"] == a.slug
    assert line["route"] == "/t/{slug}/api/v1/keys"
    assert line["status"] == 401
    assert "secret-tracking-key" not in json.dumps(line)
