"""The Helm chart, rendered by Helm's own engine (no helm binary, no cluster), linted, and
every manifest checked against the Kubernetes schemas of the oldest and newest versions."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

import helm_python as helm
import kubernetes_validate
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
CHART = ROOT / "helm" / "motcua"
PRODUCTION = CHART / "ci" / "production-values.yaml"
# The chart's kubeVersion floor, and the newest schemas kubernetes-validate ships.
KUBE_VERSIONS = ("1.30.0", kubernetes_validate.latest_version())

HOOK = "helm.sh/hook"


def production_values() -> dict[str, Any]:
    return helm.values_from_yaml(PRODUCTION.read_text())


def render(values: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    with helm.Chart.load(CHART) as chart:
        chart.validate_schema(values)
        files = chart.render(values, name="motcua", namespace="motcua", is_install=True)
    return [
        document
        for path, text in sorted(files.items())
        if not path.endswith("NOTES.txt")
        for document in yaml.safe_load_all(text)
        if document
    ]


def notes(values: dict[str, Any] | None = None) -> str:
    with helm.Chart.load(CHART) as chart:
        files = chart.render(values, name="motcua", namespace="motcua", is_install=True)
    return files["motcua/templates/NOTES.txt"]


def find(manifests: list[dict[str, Any]], kind: str, name: str | None = None) -> dict[str, Any]:
    [found] = [m for m in manifests if m["kind"] == kind and name in (None, m["metadata"]["name"])]
    return found


def pod_specs(manifests: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {
        m["metadata"]["name"]: m["spec"]["template"]["spec"]
        for m in manifests
        if m["kind"] in ("Deployment", "Job")
    }


@pytest.fixture(scope="module", params=["default values", "production values"])
def manifests(request) -> list[dict[str, Any]]:
    return render(None if request.param == "default values" else production_values())


@pytest.mark.parametrize("values", ["default", "production"])
def test_the_chart_lints_clean_in_strict_mode(values):
    report = helm.lint(
        CHART,
        None if values == "default" else production_values(),
        strict=True,
        kube_version="v1.30.0",
    )
    problems = [m for m in report["messages"] if m["severity"] >= 2]
    assert report["errors"] == [] and problems == [], report


@pytest.mark.parametrize("version", KUBE_VERSIONS)
def test_every_rendered_manifest_is_valid_kubernetes(manifests, version):
    kinds = set()
    for manifest in manifests:
        # strict: an unknown field (a typo in a template) fails too.
        kubernetes_validate.validate(manifest, version, strict=True)
        kinds.add(manifest["kind"])
    assert {"Deployment", "Job", "Service", "Ingress", "ConfigMap"} <= kinds
    assert {"HorizontalPodAutoscaler", "PodDisruptionBudget", "ServiceAccount"} <= kinds


def test_every_pod_runs_unprivileged_on_a_read_only_root_with_a_writable_tmp(manifests):
    for name, spec in pod_specs(manifests).items():
        assert spec["securityContext"]["runAsNonRoot"] is True, name
        assert spec["automountServiceAccountToken"] is False, name
        volumes = {v["name"]: v for v in spec["volumes"]}
        for container in spec["containers"]:
            security = container["securityContext"]
            assert security["readOnlyRootFilesystem"] is True, name
            assert security["allowPrivilegeEscalation"] is False, name
            assert security["capabilities"]["drop"] == ["ALL"], name
            [tmp] = [m for m in container["volumeMounts"] if m["mountPath"] == "/tmp"]  # noqa: S108
            assert "emptyDir" in volumes[tmp["name"]], name
            assert container["resources"]["requests"] and container["resources"]["limits"]


def test_the_api_and_worker_run_the_motcua_commands_with_their_probes(manifests):
    api = find(manifests, "Deployment", "motcua-api")["spec"]["template"]["spec"]
    [container] = api["containers"]
    assert container["args"][0] == "serve"
    assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
    # A platform host, so a probe never makes the app look up a tenant domain.
    assert container["livenessProbe"]["httpGet"]["httpHeaders"] == [
        {"name": "Host", "value": "localhost"}
    ]
    config = find(manifests, "ConfigMap")["data"]
    assert "localhost" in config["MOTCUA_PLATFORM_HOSTS"].split(",")
    # The pod is given time for its preStop pause and the requests in flight.
    grace = int(container["args"][container["args"].index("--grace") + 1])
    sleep = container["lifecycle"]["preStop"]["sleep"]["seconds"]
    assert api["terminationGracePeriodSeconds"] > grace + sleep

    worker = find(manifests, "Deployment", "motcua-worker")["spec"]["template"]["spec"]
    [container] = worker["containers"]
    assert container["args"][0] == "worker"
    probe = container["livenessProbe"]["exec"]["command"]
    assert probe[:3] == ["motcua", "worker", "--check"]
    health_file = container["args"][container["args"].index("--health-file") + 1]
    assert probe[probe.index("--health-file") + 1] == health_file
    grace = int(container["args"][container["args"].index("--grace") + 1])
    assert worker["terminationGracePeriodSeconds"] > grace


def test_autoscalers_and_disruption_budgets_target_the_api_and_the_worker(manifests):
    deployments = {m["metadata"]["name"]: m for m in manifests if m["kind"] == "Deployment"}
    for kind in ("HorizontalPodAutoscaler", "PodDisruptionBudget"):
        targets = set()
        for m in (m for m in manifests if m["kind"] == kind):
            if kind == "HorizontalPodAutoscaler":
                targets.add(m["spec"]["scaleTargetRef"]["name"])
            else:
                selector = m["spec"]["selector"]["matchLabels"]
                targets |= {
                    name
                    for name, d in deployments.items()
                    if selector.items() <= d["spec"]["template"]["metadata"]["labels"].items()
                }
        assert targets == set(deployments), kind


def test_the_migration_job_is_a_pre_install_hook_that_needs_nothing_the_release_makes():
    for values in (None, production_values()):
        manifests = render(values)
        job = find(manifests, "Job")
        assert job["metadata"]["annotations"][HOOK] == "pre-install,pre-upgrade"
        spec = job["spec"]["template"]["spec"]
        [container] = spec["containers"]
        assert container["args"] == ["db", "upgrade"]
        # Nothing the release itself creates (they do not exist yet when the hook runs).
        made_by_release = {
            (m["kind"], m["metadata"]["name"])
            for m in manifests
            if HOOK not in m["metadata"].get("annotations", {})
        }
        [secret_ref] = [source["secretRef"]["name"] for source in container["envFrom"]]
        assert ("Secret", secret_ref) not in made_by_release
        assert "serviceAccountName" not in spec
        assert "configMapRef" not in str(container)
        # It has the same non-secret settings as the pods.
        env = {e["name"]: e["value"] for e in container["env"]}
        assert env == find(manifests, "ConfigMap")["data"]


def test_with_an_existing_secret_the_chart_makes_none_and_reads_that_one():
    manifests = render(None)
    assert [m for m in manifests if m["kind"] == "Secret"] == []
    for name, spec in pod_specs(manifests).items():
        sources = spec["containers"][0]["envFrom"]
        refs = [s["secretRef"]["name"] for s in sources if "secretRef" in s]
        assert refs == ["motcua-settings"], name


def test_with_values_the_chart_makes_the_secret_and_an_earlier_hook_copy_for_migrations():
    manifests = render(production_values())
    secrets = {m["metadata"]["name"]: m for m in manifests if m["kind"] == "Secret"}
    assert set(secrets) == {"motcua", "motcua-migrations"}
    hook_copy = secrets["motcua-migrations"]["metadata"]["annotations"]
    job = find(manifests, "Job")["metadata"]["annotations"]
    assert hook_copy[HOOK] == job[HOOK]
    assert int(hook_copy["helm.sh/hook-weight"]) < int(job["helm.sh/hook-weight"])
    # Credentials do not outlive the hook, whether migrations succeed or fail.
    policy = hook_copy["helm.sh/hook-delete-policy"].split(",")
    assert {"before-hook-creation", "hook-succeeded", "hook-failed"} <= set(policy)
    for secret in secrets.values():
        data = {k: base64.b64decode(v).decode() for k, v in secret["data"].items()}
        assert data["MOTCUA_DATABASE_URL"].startswith("postgresql://")
        assert data["MOTCUA_REDIS_URL"].startswith("redis://")
        assert data["ZALO_OA_SECRET"] == "zalo-secret"
        assert data["MOTCUA_SECRET_KEYS"] and data["MOTCUA_SESSION_KEYS"]


def test_the_ingress_has_the_platform_host_and_every_province_domain_with_tls():
    ingress = find(render(production_values()), "Ingress")["spec"]
    hosts = [rule["host"] for rule in ingress["rules"]]
    assert hosts == [
        "motcua.gov.vn",
        "dichvucong.angiang.gov.vn",
        "dichvucong.danang.gov.vn",
        "motcua.dongnai.gov.vn",
    ]
    assert {t["hosts"][0]: t["secretName"] for t in ingress["tls"]}["motcua.gov.vn"] == (
        "motcua-gov-vn-tls"
    )
    assert len(ingress["tls"]) == 4
    assert ingress["ingressClassName"] == "nginx"


def test_without_addresses_or_an_existing_secret_the_chart_refuses_with_a_clear_message():
    values = {"secrets": {"existingSecret": ""}}
    with helm.Chart.load(CHART) as chart:
        with pytest.raises(helm.HelmValuesError, match="databaseUrl"):
            chart.validate_schema(values)
        # Render checks the schema first (the template's own `required` backs it up when an
        # install skips schema validation).
        with pytest.raises(helm.HelmValuesError, match="databaseUrl"):
            chart.render(values, name="motcua", namespace="motcua", is_install=True)


@pytest.mark.parametrize(
    ("values", "named"),
    [
        ({"api": {"replicas": "two"}}, "replicas"),
        ({"config": {"logLevel": "LOUD"}}, "logLevel"),
        ({"ingress": {"tenants": [{"host": "Not A Host"}]}}, "host"),
        ({"databaseUrl": "postgresql://x"}, "databaseUrl"),  # at the top level: a typo
        ({"secrets": {"redisUrl": "http://redis:6379"}}, "redisUrl"),
    ],
)
def test_the_values_schema_rejects_bad_values_naming_them(values, named):
    with helm.Chart.load(CHART) as chart, pytest.raises(helm.HelmValuesError, match=named):
        chart.validate_schema(values)


def test_the_notes_tell_how_to_onboard_the_first_province():
    text = notes(production_values())
    assert "kubectl --namespace motcua exec deploy/motcua-api -- motcua keys create --platform" in (
        text
    )
    assert "motcua tenants apply" in text
    assert "https://motcua.gov.vn/api/v1/platform/tenants" in text
