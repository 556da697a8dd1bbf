"""The deployment files stay valid: the Kubernetes manifests (deploy/k8s, rendered as
kustomize would, validated strictly against a pinned Kubernetes version, offline), the
nginx config's SSE rules, and the compose push and proxy services."""

from __future__ import annotations

import importlib.util
import shutil
import subprocess
from pathlib import Path

import kubernetes_validate
import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
K8S = ROOT / "deploy" / "k8s"
# The Kubernetes version the manifests are checked against (.ci/run uses the same).
KUBERNETES_VERSION = "1.32.0"
KUSTOMIZATIONS = [K8S / "base", K8S / "overlays" / "example"]


def _renderer():
    spec = importlib.util.spec_from_file_location("k8s_render", K8S / "render.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def rendered(folder: Path) -> dict[tuple[str, str], dict]:
    return {(d["kind"], d["metadata"]["name"]): d for d in _renderer().render(folder)}


@pytest.mark.parametrize("folder", KUSTOMIZATIONS, ids=lambda f: f.name)
def test_every_manifest_is_valid_kubernetes(folder):
    docs = rendered(folder)
    assert len(docs) == 12
    for (kind, name), doc in docs.items():
        try:
            kubernetes_validate.validate(doc, KUBERNETES_VERSION, strict=True)
        except kubernetes_validate.ValidationError as error:
            pytest.fail(f"{kind}/{name}: {error.message} at {list(error.path)}")


def test_a_broken_manifest_is_caught():
    web = rendered(K8S / "base")[("Deployment", "twelp-web")]
    web["spec"]["template"]["spec"]["containers"][0]["readinesProbe"] = {}  # a typo
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(web, KUBERNETES_VERSION, strict=True)


def test_the_pieces_issue_14_asks_for():
    docs = rendered(K8S / "overlays" / "example")
    pods = {
        name: doc["spec"]["template"]["spec"]
        for (kind, name), doc in docs.items()
        if kind in ("Deployment", "Job")
    }
    assert set(pods) == {"twelp-web", "twelp-push", "twelp-worker", "twelp-beat", "twelp-migrate"}
    for name, pod in pods.items():
        [container] = pod["containers"]
        assert container["image"] == "registry.example.com/twelp:0.1.0", name
        assert {"requests", "limits"} <= set(container["resources"]), name
        refs = [next(iter(ref.values()))["name"] for ref in container["envFrom"]]
        assert refs == ["twelp-config", "twelp-secrets"], name
    # The secret is referenced, never shipped.
    assert not any(kind == "Secret" for kind, _ in docs)
    beat = docs[("Deployment", "twelp-beat")]["spec"]
    assert beat["replicas"] == 1 and beat["strategy"] == {"type": "Recreate"}
    web = pods["twelp-web"]["containers"][0]
    push = pods["twelp-push"]["containers"][0]
    assert web["command"][:2] == ["gunicorn", "twelp.wsgi:application"]
    assert push["command"][:4] == ["python", "-m", "uvicorn", "twelp.asgi:application"]
    assert web["readinessProbe"]["httpGet"]["path"] == "/healthz"
    assert push["readinessProbe"]["httpGet"]["path"] == "/push/healthz"
    assert push["livenessProbe"]["httpGet"]["path"] == "/push/healthz"
    hpas = {
        doc["spec"]["scaleTargetRef"]["name"]
        for (kind, _), doc in docs.items()
        if kind == "HorizontalPodAutoscaler"
    }  # noqa: E501
    assert hpas == {"twelp-web", "twelp-push"}
    sse = docs[("Ingress", "twelp-push")]
    notes = sse["metadata"]["annotations"]
    assert notes["nginx.ingress.kubernetes.io/proxy-buffering"] == "off"
    assert int(notes["nginx.ingress.kubernetes.io/proxy-read-timeout"]) >= 3600
    [path] = sse["spec"]["rules"][0]["http"]["paths"]
    assert (path["path"], path["backend"]["service"]["name"]) == ("/push/", "twelp-push")
    assert all(doc["metadata"]["namespace"] == "twelp" for doc in docs.values())


@pytest.mark.skipif(not shutil.which("kubectl"), reason="kubectl is not installed")
@pytest.mark.parametrize("folder", KUSTOMIZATIONS, ids=lambda f: f.name)
def test_the_renderer_agrees_with_kubectl_kustomize(folder):
    out = subprocess.run(
        ["kubectl", "kustomize", str(folder)], capture_output=True, text=True, timeout=60
    )
    assert out.returncode == 0, out.stderr
    theirs = {(d["kind"], d["metadata"]["name"]): d for d in yaml.safe_load_all(out.stdout)}
    assert theirs == rendered(folder)


def test_nginx_streams_push_unbuffered_and_sends_the_rest_to_web():
    conf = (ROOT / "deploy" / "nginx" / "twelp.conf").read_text()
    push = conf[conf.index("location /push/") :].split("}")[0]
    assert "proxy_pass http://twelp_push;" in push
    for rule in ("proxy_buffering off;", "gzip off;", "proxy_read_timeout 3600s;"):
        assert rule in push
    assert "proxy_http_version 1.1;" in conf
    rest = conf[conf.index("location / {") :].split("}")[0]
    assert "proxy_pass http://twelp_web;" in rest


def test_compose_runs_push_under_uvicorn_behind_the_proxy():
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    services = compose["services"]
    command = services["push"]["command"]
    assert command[:4] == ["python", "-m", "uvicorn", "twelp.asgi:application"]
    assert services["push"]["image"] == services["web"]["image"]
    assert "ports" not in services["web"]  # only the proxy is published, so web scales
    assert (
        "./deploy/nginx/twelp.conf:/etc/nginx/conf.d/default.conf:ro"
        in services["proxy"]["volumes"]
    )


# Settings docker-compose.yml uses itself (or sets for its containers) and the test suite's
# own; every other setting of .env.example reaches each app container.
COMPOSE_ONLY = {"POSTGRES_PASSWORD", "TWELP_HTTP_PORT", "PUSH_DB_POOL_MAX"}
SET_BY_COMPOSE = {"DATABASE_URL", "REDIS_URL", "X_TRAINING_API_BASE_URL"}
TEST_ONLY = {"TEST_REDIS_DB", "TWELP_TEST_RUN_ID"}


def documented_settings() -> set[str]:
    names = set()
    for line in (ROOT / ".env.example").read_text().splitlines():
        line = line.removeprefix("# ")
        name, equals, _ = line.partition("=")
        if equals and name.isupper() and name.replace("_", "").isalnum():
            names.add(name)
    return names


def test_compose_passes_every_documented_setting_to_every_app_service():
    services = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]
    wanted = documented_settings() - COMPOSE_ONLY - TEST_ONLY
    assert len(wanted) > 60
    for name in ("migrate", "web", "push", "worker", "beat", "sandbox"):
        service = services[name]
        assert "env_file" not in service  # .env is optional: read for interpolation only
        assert wanted - set(service["environment"]) == set(), name
        for setting in wanted - SET_BY_COMPOSE:
            if (name, setting) in {("sandbox", "XSANDBOX_ALLOWED_HOSTS"), ("push", "DB_POOL_MAX")}:
                continue  # their own values: the sandbox's host, push's small pool
            assert service["environment"][setting] == f"${{{setting}:-}}", (name, setting)


@pytest.mark.skipif(not shutil.which("docker-compose"), reason="needs Debian's docker-compose")
@pytest.mark.parametrize("with_env_file", [False, True], ids=["fresh clone", "with .env"])
def test_compose_config_is_valid_with_and_without_an_env_file(tmp_path, with_env_file):
    for name in ("docker-compose.yml", "docker-compose.dbhost.yml", ".env.example"):
        shutil.copy(ROOT / name, tmp_path / name)
    shutil.copytree(ROOT / "deploy", tmp_path / "deploy")
    if with_env_file:
        env = (ROOT / ".env.example").read_text().replace("SECRET_KEY=\n", "SECRET_KEY=s3cret\n")
        (tmp_path / ".env").write_text(env)
    shell = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}

    def compose(*files: str, **env: str) -> subprocess.CompletedProcess[str]:
        command = ["docker-compose", *(f"-f{name}" for name in files), "config"]
        return subprocess.run(
            command, cwd=tmp_path, env={**shell, **env}, capture_output=True, text=True, timeout=60
        )

    result = compose("docker-compose.yml")
    assert result.returncode == 0, result.stderr
    config = yaml.safe_load(result.stdout)
    web = config["services"]["web"]["environment"]
    assert web["SECRET_KEY"] == ("s3cret" if with_env_file else "")
    assert web["REDIS_URL"] == "redis://redis:6379/0"
    dbhost = compose(
        "docker-compose.yml",
        "docker-compose.dbhost.yml",
        DATABASE_URL="postgres://twelp@db-host:5432/twelp",
    )
    assert dbhost.returncode == 0, dbhost.stderr
