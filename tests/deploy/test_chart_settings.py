"""The settings the chart gives the pods are ones the service starts with: the rendered
ConfigMap and Secret (or the Secret the docs tell the operator to make) go through
`load_settings` as the pods' environment would, in production."""

from __future__ import annotations

import base64
import inspect
import re
import subprocess
import sys
from typing import Any

import helm_python as helm
import pytest
import uvicorn

from motcua import cli
from motcua.auth.tokens import SessionSigner
from motcua.notices.vault import Vault
from motcua.settings import Settings, load_settings
from tests.deploy.test_chart import CHART, find, notes, production_values, render

# `--from-literal=NAME=value`, or a value the operator generates with `$(python -c '…')`.
LITERAL = re.compile(
    r"--from-literal=(?P<name>[A-Z_]+)="
    r"(?:\"\$\(python -c '(?P<code>[^']*)'\)\"|(?P<value>[^\s\\]+))"
)
EXAMPLES = {
    "the chart's README": lambda: (CHART / "README.md").read_text(),
    "the NOTES": lambda: notes(None),
    "values.yaml": lambda: (CHART / "values.yaml").read_text(),
}


def decoded(secret: dict[str, Any]) -> dict[str, str]:
    return {name: base64.b64decode(value).decode() for name, value in secret["data"].items()}


def example_secret(text: str, name: str = "motcua-settings") -> dict[str, str]:
    """The Secret a `kubectl create secret generic NAME` example makes, its generated keys
    generated."""
    found = {}
    command = next(
        part for part in text.split("create secret generic ")[1:] if part.startswith(name)
    )
    for match in LITERAL.finditer(command.split("\n\n")[0]):
        value = match["value"]
        if match["code"]:
            run = [sys.executable, "-c", match["code"]]
            value = subprocess.run(run, capture_output=True, text=True, check=True).stdout.strip()
        found[match["name"]] = value
    return found


def starts_with(environ: dict[str, str]) -> Settings:
    """What a pod does first with its environment: read settings, open its key rings."""
    settings = load_settings(environ)
    assert settings.environment == "production"
    Vault.for_settings(settings)
    SessionSigner.for_settings(settings)
    return settings


def test_the_pods_and_the_migration_hook_start_with_the_secret_the_chart_makes():
    manifests = render(production_values())
    config = find(manifests, "ConfigMap")["data"]
    settings = starts_with(config | decoded(find(manifests, "Secret", "motcua")))
    assert settings.session_keys and settings.secret_keys
    assert settings.database_url == production_values()["secrets"]["databaseUrl"]

    [migrate] = find(manifests, "Job")["spec"]["template"]["spec"]["containers"]
    env = {e["name"]: e["value"] for e in migrate["env"]}
    migrations = starts_with(env | decoded(find(manifests, "Secret", "motcua-migrations")))
    # The owner's login goes to the migration hook only; the pods log in as the role.
    assert migrations.database_owner_url == production_values()["secrets"]["databaseOwnerUrl"]
    assert settings.database_owner_url is None
    assert settings.database_url.startswith(f"postgresql://{settings.database_role}:")


def test_with_existing_secrets_only_the_migration_job_reads_the_owner_secret():
    values = {"secrets": {"existingSecret": "motcua-settings", "existingOwnerSecret": "owner"}}
    manifests = render(values)

    def secrets_read(kind: str, name: str) -> set[str]:
        spec = find(manifests, kind, name)["spec"]["template"]["spec"]
        return {
            ref["secretRef"]["name"]
            for c in spec["containers"]
            for ref in c["envFrom"]
            if "secretRef" in ref
        }

    assert secrets_read("Job", "motcua-migrate") == {"motcua-settings", "owner"}
    for pods in ("motcua-api", "motcua-worker"):
        assert secrets_read("Deployment", pods) == {"motcua-settings"}


def test_with_an_existing_secret_the_documented_one_is_enough_to_start():
    config = find(render(None), "ConfigMap")["data"]
    names = {}
    for where, text in EXAMPLES.items():
        secret = example_secret(text())
        names[where] = set(secret)
        if where != "values.yaml":  # its comment shows placeholders, not values
            starts_with(config | secret)
        # Each also shows the owner's Secret, for the migration hook alone.
        assert set(example_secret(text(), "motcua-owner")) == {"MOTCUA_DATABASE_OWNER_URL"}
    # Every example names the same variables, and the chart would make the same ones.
    made = decoded(find(render(production_values()), "Secret", "motcua"))
    assert len(set(map(frozenset, names.values()))) == 1, names
    assert {name for name in made if name.startswith("MOTCUA_")} == names["values.yaml"]


def test_without_session_keys_the_chart_refuses_before_anything_is_applied():
    values = production_values()
    values["secrets"]["sessionKeys"] = ""
    with helm.Chart.load(CHART) as chart:
        with pytest.raises(helm.HelmValuesError, match="sessionKeys"):
            chart.validate_schema(values)
        with pytest.raises(helm.HelmValuesError, match="sessionKeys"):
            chart.render(values, name="motcua", namespace="motcua", is_install=True)
        # Each key is checked as the service checks it: 32 characters at least.
        values["secrets"]["sessionKeys"] = "x" * 40 + ",too-short"
        with pytest.raises(helm.HelmValuesError, match="sessionKeys"):
            chart.validate_schema(values)


def test_the_worker_gets_its_provider_connections_from_the_values():
    values = production_values()
    values["config"]["providerConnections"] = 64
    manifests = render(values)
    config = find(manifests, "ConfigMap")["data"]
    assert config["MOTCUA_PROVIDER_CONNECTIONS"] == "64"
    settings = starts_with(config | decoded(find(manifests, "Secret", "motcua")))
    assert settings.provider_connections == 64
    worker = find(manifests, "Deployment", "motcua-worker")["spec"]["template"]["spec"]
    [container] = worker["containers"]
    assert {"configMapRef": {"name": "motcua"}} in container["envFrom"]


def api_env(values: dict[str, Any] | None) -> dict[str, str]:
    api = find(render(values), "Deployment", "motcua-api")["spec"]["template"]["spec"]
    [container] = api["containers"]
    return {e["name"]: e["value"] for e in container.get("env", [])}


def test_the_api_believes_x_forwarded_for_from_the_ingress_only_as_configured():
    assert api_env(None)["FORWARDED_ALLOW_IPS"] == "*"
    values = production_values() | {"proxy": {"trustedAddresses": "10.244.0.0/16, fd00::/8"}}
    assert api_env(values)["FORWARDED_ALLOW_IPS"] == "10.244.0.0/16, fd00::/8"
    bad = {"proxy": {"trustedAddresses": "the ingress"}}
    with helm.Chart.load(CHART) as chart, pytest.raises(helm.HelmValuesError, match="trusted"):
        chart.validate_schema(bad)


def test_motcua_serve_leaves_the_trusted_proxies_to_the_environment(monkeypatch):
    # `motcua serve` gives uvicorn proxy_headers and no forwarded_allow_ips of its own, so
    # uvicorn reads FORWARDED_ALLOW_IPS, the variable the chart sets.
    source = inspect.getsource(cli.serve)
    assert "proxy_headers=True" in source and "forwarded_allow_ips" not in source
    monkeypatch.setenv("FORWARDED_ALLOW_IPS", "10.244.0.0/16")
    assert uvicorn.Config(lambda: None, proxy_headers=True).forwarded_allow_ips == "10.244.0.0/16"
