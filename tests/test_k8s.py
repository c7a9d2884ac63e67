"""deploy/k8s: the Kustomize base and its overlays render, every object is valid for Kubernetes (and KEDA),
they run what the Procfile runs, and every variable the settings read is set or deliberately left at its
default. Offline and without a cluster: rendering is tests/support/kustomize.py, Kubernetes' schemas ship
inside the kubernetes-validate package, KEDA's are tests/support/keda_schemas.yaml."""

from __future__ import annotations

import functools
import re
import shlex
import shutil
import subprocess
from pathlib import Path

import jsonschema
import kubernetes_validate
import pytest
import yaml

from tests.support.kustomize import UnsupportedKustomization, render
from tests.test_deploy_files import _essentials, procfile
from worker.celery import QUEUES

ROOT = Path(__file__).resolve().parent.parent
K8S = ROOT / "deploy" / "k8s"
TREES = {"base": K8S / "base", "dev": K8S / "overlays" / "dev", "prod": K8S / "overlays" / "prod"}
OVERLAYS = ("dev", "prod")
# The oldest Kubernetes we support (autoscaling/v2, policy/v1 PDB, Job TTL are all GA there) and the newest
# kubernetes-validate knows.
KUBERNETES_VERSIONS = ("1.30", "1.37")
APP_IMAGE = "salon-backend"
PROCESSES = ("web", "worker", "notifications", "beat", "flower")

# Read by the settings and deliberately left at their README defaults: deploy/k8s/optional-env.txt.
OPTIONAL_ENV = frozenset(
    line.split("#", 1)[0].strip()
    for line in (K8S / "optional-env.txt").read_text().splitlines()
    if line.split("#", 1)[0].strip()
)
# Without these the settings refuse to load or production is unsafe: never optional.
REQUIRED_ENV = frozenset({"DJANGO_SECRET_KEY", "DJANGO_ALLOWED_HOSTS", "DATABASE_URL", "REDIS_URL"})
# Set by the manifests for someone other than config/settings.py: the process commands ($(VAR) in args),
# KEDA (BROKER_REDIS_PASSWORD) and the migrate Job (DATABASE_DIRECT_URL, its DATABASE_URL).
READ_OUTSIDE_SETTINGS = frozenset(
    {
        "WEB_CONCURRENCY",
        "WORKER_CONCURRENCY",
        "NOTIFICATIONS_CONCURRENCY",
        "FLOWER_BASIC_AUTH",
        "BROKER_REDIS_PASSWORD",
        "DATABASE_DIRECT_URL",
    }
)
_ENV_READ = re.compile(
    r"""(?:\benv(?:\.\w+)?\(|\b_env(?:\.\w+)?\(|os\.environ\.get\(|os\.environ\[|os\.getenv\()\s*"([A-Z][A-Z0-9_]+)"|"([A-Z][A-Z0-9_]+)"\s+not\s+in\s+env\b"""
)


@functools.cache
def rendered(tree: str) -> tuple[dict, ...]:
    return tuple(render(TREES[tree]))


def by_kind(tree: str, kind: str) -> dict[str, dict]:
    return {obj["metadata"]["name"]: obj for obj in rendered(tree) if obj["kind"] == kind}


def pod_spec(obj: dict) -> dict:
    return obj["spec"]["template"]["spec"]


def settings_env_reads() -> set[str]:
    files = [ROOT / "config" / "settings.py", ROOT / "config" / "gunicorn.py"]
    files += [path for path in (ROOT / "backend").rglob("*.py") if "fakes" not in path.parts]
    names: set[str] = set()
    for path in files:
        for match in _ENV_READ.finditer(path.read_text()):
            names.add(match.group(1) or match.group(2))
    return names


def secret_keys(tree: str) -> set[str]:
    if tree == "prod":  # created out of band from this list
        lines = (TREES["prod"] / "secrets.env.example").read_text().splitlines()
        return {line.split("=", 1)[0] for line in lines if line and not line.startswith("#")}
    return set(by_kind(tree, "Secret")["salon-secrets"]["stringData"])


@pytest.mark.parametrize("tree", TREES)
def test_every_object_is_valid_for_kubernetes_and_keda(tree):
    keda = yaml.safe_load((ROOT / "tests" / "support" / "keda_schemas.yaml").read_text())
    objects = rendered(tree)
    assert len({(obj["kind"], obj["metadata"]["name"]) for obj in objects}) == len(objects), "duplicates"
    for obj in objects:
        if obj["apiVersion"].startswith("keda.sh/"):
            schema = {"$defs": keda["$defs"], **keda[obj["kind"]]}
            jsonschema.validate(obj, schema, cls=jsonschema.Draft202012Validator)
            continue
        for version in KUBERNETES_VERSIONS:
            kubernetes_validate.validate(obj, version, strict=True)


def test_the_validators_refuse_a_mistake(tmp_path):
    """The checks above can fail: an unknown field, a trigger without its list, an unsupported field."""
    web = yaml.safe_load(yaml.safe_dump(by_kind("prod", "Deployment")["web"]))
    pod_spec(web)["containers"][0]["readinessProbes"] = {}
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(web, KUBERNETES_VERSIONS[0], strict=True)
    keda = yaml.safe_load((ROOT / "tests" / "support" / "keda_schemas.yaml").read_text())
    scaled = yaml.safe_load(yaml.safe_dump(by_kind("base", "ScaledObject")["worker"]))
    del scaled["spec"]["triggers"][0]["metadata"]["listName"]
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(scaled, {"$defs": keda["$defs"], **keda["ScaledObject"]})
    kustomization = {"resources": [str(TREES["base"])], "commonLabels": {"team": "salon"}}
    (tmp_path / "kustomization.yaml").write_text(yaml.safe_dump(kustomization))
    with pytest.raises(UnsupportedKustomization, match="commonLabels"):
        render(tmp_path)


@pytest.mark.skipif(shutil.which("kubectl") is None, reason="kubectl (with Kustomize) is not installed")
@pytest.mark.parametrize("tree", TREES)
def test_the_python_rendering_is_what_kustomize_prints(tree):
    printed = subprocess.run(
        ["kubectl", "kustomize", str(TREES[tree])], check=True, capture_output=True, text=True, timeout=60
    ).stdout

    def key(obj: dict) -> tuple[str, str]:
        return obj["kind"], obj["metadata"]["name"]

    assert sorted(yaml.safe_load_all(printed), key=key) == sorted(rendered(tree), key=key)


@pytest.mark.parametrize("tree", TREES)
def test_each_process_runs_what_the_procfile_runs(tree):
    deployments = by_kind(tree, "Deployment")
    processes = procfile()
    for name in PROCESSES:
        (container,) = pod_spec(deployments[name])["containers"]
        words = container["command"] + container["args"]
        assert _essentials(words) == _essentials(shlex.split(processes[name])), name
        assert container["image"].split(":")[0].endswith(APP_IMAGE), name
    worker_env = {
        name: {e["name"]: e.get("value") for e in pod_spec(deployments[name])["containers"][0].get("env", [])}
        for name in ("worker", "notifications", "beat")
    }
    for name, env in worker_env.items():
        assert env.get("REMAP_SIGTERM") == "SIGQUIT", name
    job = by_kind(tree, "Job")["migrate"]
    (container,) = pod_spec(job)["containers"]
    release = procfile()["release"]
    if tree == "dev":  # like `make run`, the dev overlay skips `check --deploy`
        assert release.endswith(container["args"][0])
    else:
        assert container["args"] == [release]


@pytest.mark.parametrize("tree", TREES)
def test_beat_runs_twice_under_redbeats_lock(tree):
    """Two beats are safe only under celery-redbeat's lock, which the settings choose (issue 24): no
    command line may pick another scheduler."""
    beat = by_kind(tree, "Deployment")["beat"]
    assert beat["spec"]["replicas"] == 2
    args = pod_spec(beat)["containers"][0]["args"]
    assert not [arg for arg in args if arg.startswith(("--scheduler", "-S"))]


@pytest.mark.parametrize("tree", TREES)
def test_keda_scales_each_worker_kind_on_the_queues_it_consumes(tree):
    deployments = by_kind(tree, "Deployment")
    consumed: set[str] = set()
    for name, scaled in by_kind(tree, "ScaledObject").items():
        target = scaled["spec"]["scaleTargetRef"]["name"]
        args = pod_spec(deployments[target])["containers"][0]["args"]
        queues = set(args[args.index("-Q") + 1].split(","))
        watched = {trigger["metadata"]["listName"] for trigger in scaled["spec"]["triggers"]}
        assert watched == queues, name
        assert scaled["spec"]["minReplicaCount"] >= 1, "never scaled to zero"
        assert "replicas" not in deployments[target]["spec"], "KEDA owns the count"
        consumed |= queues
    assert consumed == set(QUEUES)


@pytest.mark.parametrize("tree", TREES)
def test_web_has_its_probes_budget_and_cpu_autoscaler(tree):
    web = by_kind(tree, "Deployment")["web"]
    labels = web["spec"]["template"]["metadata"]["labels"]
    (container,) = pod_spec(web)["containers"]
    readiness = container["readinessProbe"]["httpGet"]
    assert readiness["path"] == "/health/"
    (host,) = [header["value"] for header in readiness["httpHeaders"] if header["name"] == "Host"]
    assert host in by_kind(tree, "ConfigMap")["salon-config"]["data"]["DJANGO_ALLOWED_HOSTS"].split(",")
    assert "httpGet" not in container["livenessProbe"], "a database outage must not restart every pod"
    assert "replicas" not in web["spec"], "the HPA owns the count"
    pdb = by_kind(tree, "PodDisruptionBudget")["web"]
    assert pdb["spec"]["selector"]["matchLabels"].items() <= labels.items()
    hpa = by_kind(tree, "HorizontalPodAutoscaler")["web"]
    assert hpa["spec"]["scaleTargetRef"]["name"] == "web"
    assert [metric["resource"]["name"] for metric in hpa["spec"]["metrics"]] == ["cpu"]


@pytest.mark.parametrize("tree", TREES)
def test_services_select_their_pods_and_nothing_is_public(tree):
    pods = {
        name: obj["spec"]["template"]["metadata"]["labels"]
        for name, obj in by_kind(tree, "Deployment").items()
    }
    for name, service in by_kind(tree, "Service").items():
        assert service["spec"].get("type", "ClusterIP") == "ClusterIP", name
        assert service["spec"]["selector"].items() <= pods[name].items(), name
    assert not [obj for obj in rendered(tree) if obj["kind"] == "Ingress"], "the ingress is the operator's"
    flower = pod_spec(by_kind(tree, "Deployment")["flower"])["containers"][0]
    assert "--basic-auth=$(FLOWER_BASIC_AUTH)" in flower["args"]
    (auth,) = [env for env in flower["env"] if env["name"] == "FLOWER_BASIC_AUTH"]
    assert auth["valueFrom"]["secretKeyRef"]["name"] == "salon-secrets"
    policies = by_kind(tree, "NetworkPolicy")
    assert policies["flower"]["spec"]["ingress"] == [], "no pod connects to Flower"
    (allowed,) = policies["pgbouncer"]["spec"]["ingress"]
    assert allowed["from"] == [{"podSelector": {"matchLabels": {"app.kubernetes.io/name": "salon"}}}]


@pytest.mark.parametrize("tree", TREES)
def test_the_redundant_pods_spread_over_nodes(tree):
    deployments = by_kind(tree, "Deployment")
    for name in ("web", "beat", "pgbouncer"):
        (spread,) = pod_spec(deployments[name])["topologySpreadConstraints"]
        assert spread["topologyKey"] == "kubernetes.io/hostname", name
        labels = deployments[name]["spec"]["template"]["metadata"]["labels"]
        assert spread["labelSelector"]["matchLabels"] == labels, name


@pytest.mark.parametrize("tree", TREES)
def test_every_container_is_locked_down_and_sized(tree):
    throwaway_stores = {"postgres"}  # the dev overlay's PostgreSQL writes beside its data directory
    for obj in rendered(tree):
        if obj["kind"] not in ("Deployment", "Job"):
            continue
        spec = pod_spec(obj)
        name = obj["metadata"]["name"]
        assert spec["securityContext"]["runAsNonRoot"] is True, name
        assert spec["automountServiceAccountToken"] is False, name
        for container in spec["containers"]:
            security = container["securityContext"]
            assert security["allowPrivilegeEscalation"] is False, name
            assert security["capabilities"]["drop"] == ["ALL"], name
            assert security.get("readOnlyRootFilesystem") is True or name in throwaway_stores, name
            for bound in ("requests", "limits"):
                assert set(container["resources"][bound]) == {"cpu", "memory"}, (name, bound)
            if obj["kind"] == "Deployment" and name != "beat":
                assert "livenessProbe" in container or "readinessProbe" in container, name


@pytest.mark.parametrize("tree", OVERLAYS)
def test_every_variable_the_settings_read_is_set_or_left_at_its_default(tree):
    reads = settings_env_reads()
    config = set(by_kind(tree, "ConfigMap")["salon-config"]["data"])
    explicit = {
        env["name"]
        for obj in rendered(tree)
        if obj["kind"] in ("Deployment", "Job")
        for container in pod_spec(obj)["containers"]
        for env in container.get("env", [])
    }
    provided = config | secret_keys(tree) | explicit
    assert provided >= REQUIRED_ENV
    assert not REQUIRED_ENV & OPTIONAL_ENV
    missing = reads - provided - OPTIONAL_ENV
    assert not missing, f"set these in deploy/k8s or name them in optional-env.txt: {sorted(missing)}"
    unread = OPTIONAL_ENV - reads
    assert not unread, f"no longer read, drop from optional-env.txt: {sorted(unread)}"
    stray = (config | secret_keys(tree)) - reads - READ_OUTSIDE_SETTINGS
    assert not stray, f"set but read by nothing: {sorted(stray)}"


def test_the_production_secret_lists_the_keys_the_dev_secret_holds():
    assert secret_keys("prod") == secret_keys("dev")


def test_overlays_differ_from_the_base_where_they_must():
    assert by_kind("prod", "Deployment")["web"]["metadata"]["namespace"] == "salon"
    prod_triggers = by_kind("prod", "ScaledObject")["worker"]["spec"]["triggers"]
    assert {trigger["type"] for trigger in prod_triggers} == {"redis-sentinel"}
    prod_hpa = by_kind("prod", "HorizontalPodAutoscaler")["web"]["spec"]
    assert prod_hpa["minReplicas"] > by_kind("base", "HorizontalPodAutoscaler")["web"]["spec"]["minReplicas"]
    config = by_kind("prod", "ConfigMap")["pgbouncer-config"]["data"]["pgbouncer.ini"]
    assert re.search(r"^pool_mode = transaction$", config, re.MULTILINE)


@pytest.mark.parametrize("tree", TREES)
def test_the_apps_go_through_pgbouncer_and_migrations_straight_to_postgresql(tree):
    (migrate,) = pod_spec(by_kind(tree, "Job")["migrate"])["containers"]
    (database_url,) = [env for env in migrate["env"] if env["name"] == "DATABASE_URL"]
    assert database_url["valueFrom"]["secretKeyRef"]["key"] == "DATABASE_DIRECT_URL"
    if tree == "dev":
        secrets = by_kind(tree, "Secret")["salon-secrets"]["stringData"]
        assert "@pgbouncer:6432/" in secrets["DATABASE_URL"]
        assert "@postgres:5432/" in secrets["DATABASE_DIRECT_URL"]
