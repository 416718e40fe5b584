"""The Ingress routes the public routes of the app and nothing else: /metrics and /readyz
answer inside the cluster only. Paths are matched as Kubernetes specifies for every
controller (Prefix: whole path segments; Exact: the whole path)."""

from __future__ import annotations

import re
from functools import cache
from typing import Any

import pytest

from motcua.app import create_app
from motcua.settings import load_settings
from motcua.tenancy.resolve import SHARED_PREFIXES
from tests.deploy.test_chart import find, production_values, render

INTERNAL = ("/metrics", "/readyz")
TENANT = "/t/{slug:str}"


@cache
def app_paths() -> tuple[str, ...]:
    """Every route of the app, a sample path for each (parameters filled in)."""
    settings = load_settings({}, database_url="postgresql://x@db/x", redis_url="redis://r/0")
    return tuple(re.sub(r"\{[^}]+\}", "x", route.path) for route in create_app(settings).routes)


def tenant_domain_paths() -> set[str]:
    """What a province's own domain serves: its /t/{slug} routes, at the root, and the
    pages' shared files (tenancy.resolve.SHARED_PREFIXES)."""
    prefix = TENANT.replace("{slug:str}", "x")
    return {
        path.removeprefix(prefix)
        for path in app_paths()
        if path.startswith(prefix + "/") or path.startswith(SHARED_PREFIXES)
    }


def routed(rule: dict[str, Any], path: str) -> bool:
    for entry in rule["http"]["paths"]:
        # ImplementationSpecific means whatever the controller likes: not portable.
        assert entry["pathType"] in ("Exact", "Prefix"), entry
        if entry["pathType"] == "Exact" and path == entry["path"]:
            return True
        if entry["pathType"] == "Prefix":
            segments = [s for s in entry["path"].split("/") if s]
            if path.split("/")[1 : len(segments) + 1] == segments:
                return True
    return False


@pytest.fixture(scope="module", params=["default values", "production values"])
def ingress(request) -> dict[str, Any]:
    values = None if request.param == "default values" else production_values()
    return find(render(values), "Ingress")


def test_no_host_routes_metrics_or_readiness_to_the_internet(ingress):
    assert "defaultBackend" not in ingress["spec"]
    for rule in ingress["spec"]["rules"]:
        for path in INTERNAL:
            for variant in (path, path + "/", path + "/x"):
                assert not routed(rule, variant), (rule["host"], variant)
        assert not routed(rule, "/"), rule["host"]  # a catch-all would reach them too


def test_the_platform_host_reaches_every_public_route():
    platform = find(render(production_values()), "Ingress")["spec"]["rules"][0]
    assert platform["host"] == "motcua.gov.vn"
    public = [path for path in app_paths() if not path.startswith(INTERNAL)]
    assert [path for path in public if not routed(platform, path)] == []
    # and each path it routes leads to some route: nothing routed that the app does not serve.
    for entry in platform["http"]["paths"]:
        assert any(routed({"http": {"paths": [entry]}}, path) for path in public), entry


def test_a_province_domain_reaches_every_route_the_app_serves_there():
    [_, *tenants] = find(render(production_values()), "Ingress")["spec"]["rules"]
    served = tenant_domain_paths()
    assert {"/api/v1/track/x", "/track/x", "/hooks/x"} <= served
    for rule in tenants:
        assert [path for path in served if not routed(rule, path)] == [], rule["host"]
        for entry in rule["http"]["paths"]:
            assert any(routed({"http": {"paths": [entry]}}, path) for path in served), entry
