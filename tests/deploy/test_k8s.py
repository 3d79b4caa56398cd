"""The kustomize base renders, and every workload has probes, resources and a non-root context."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

BASE = Path(__file__).resolve().parents[2] / "deploy/k8s/base"


@pytest.fixture(scope="module")
def rendered() -> list[dict[str, Any]]:
    kubectl = shutil.which("kubectl")
    if kubectl is None:
        if os.environ.get("CI"):
            pytest.fail("kubectl is missing: .ci/run installs Debian's kubernetes-client")
        pytest.skip("kubectl not installed (apt-get install kubernetes-client)")
    result = subprocess.run(
        [kubectl, "kustomize", str(BASE)], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stderr
    return [doc for doc in yaml.safe_load_all(result.stdout) if doc]


def _deployments(objects: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {o["metadata"]["name"]: o for o in objects if o["kind"] == "Deployment"}


def test_objects(rendered: list[dict[str, Any]]) -> None:
    kinds = sorted((o["kind"], o["metadata"]["name"]) for o in rendered)
    assert kinds == [
        ("ConfigMap", "webos-config"),
        ("Deployment", "webos-audit"),
        ("Deployment", "webos-gateway"),
        ("Deployment", "webos-scheduler"),
        ("Deployment", "webos-worker"),
        ("Secret", "webos-secrets"),
        ("Service", "webos-gateway"),
    ]
    for o in rendered:
        assert o["metadata"]["labels"]["app.kubernetes.io/part-of"] == "webos"


def test_every_workload_is_probed_limited_and_non_root(rendered: list[dict[str, Any]]) -> None:
    for name, deployment in _deployments(rendered).items():
        pod = deployment["spec"]["template"]["spec"]
        assert pod["securityContext"]["runAsNonRoot"] is True, name
        for container in pod["containers"]:
            assert container["livenessProbe"] and container["readinessProbe"], name
            resources = container["resources"]
            assert resources["requests"]["cpu"] and resources["requests"]["memory"], name
            assert resources["limits"]["memory"], name
            security = container["securityContext"]
            assert security["readOnlyRootFilesystem"] is True, name
            assert security["allowPrivilegeEscalation"] is False, name
            assert security["capabilities"]["drop"] == ["ALL"], name
            assert container["env"][-1]["name"] == "WEBOS_NATS_URL", name


def test_gateway_probes_health_and_ready(rendered: list[dict[str, Any]]) -> None:
    gateway = _deployments(rendered)["webos-gateway"]["spec"]["template"]["spec"]["containers"][0]
    assert gateway["livenessProbe"]["httpGet"]["path"] == "/health"
    assert gateway["readinessProbe"]["httpGet"]["path"] == "/ready"
    assert gateway["command"] == ["webos", "run", "--exclude", "audit"]


def test_each_process_gets_only_the_secrets_it_uses(rendered: list[dict[str, Any]]) -> None:
    """Module processes and workers get no key that signs: they cannot mint access tokens."""
    holders: dict[str, set[str]] = {}
    for name, deployment in _deployments(rendered).items():
        for entry in deployment["spec"]["template"]["spec"]["containers"][0]["env"]:
            holders.setdefault(entry["name"], set()).add(name)
    assert "WEBOS_SECRET_KEY" not in holders
    assert holders["WEBOS_JWT_PRIVATE_KEY_FILE"] == {"webos-gateway"}
    assert holders["WEBOS_STORAGE_PRESIGN_SECRET"] == {"webos-gateway"}
    assert holders["WEBOS_IDENTITY_PRIVATE_KEY_FILE"] == {"webos-gateway", "webos-scheduler"}
    assert holders["WEBOS_IDENTITY_PUBLIC_KEY_FILE"] == set(_deployments(rendered))


def test_secret_ships_placeholders_only(rendered: list[dict[str, Any]]) -> None:
    secret = next(o for o in rendered if o["kind"] == "Secret")
    assert set(secret["stringData"].values()) == {"REPLACE_ME"}


def test_every_process_keeps_three_copies_of_the_kernels_streams(
    rendered: list[dict[str, Any]],
) -> None:
    """The base expects the Helm chart's 3-node JetStream cluster; every process reads the same
    value, so whichever creates a stream creates it with three copies."""
    config = next(o for o in rendered if o["kind"] == "ConfigMap")
    assert config["data"]["WEBOS_JETSTREAM_REPLICAS"] == "3"
    for name, deployment in _deployments(rendered).items():
        container = deployment["spec"]["template"]["spec"]["containers"][0]
        sources = [source["configMapRef"]["name"] for source in container["envFrom"]]
        assert config["metadata"]["name"] in sources, name
