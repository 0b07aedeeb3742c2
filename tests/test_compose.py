"""docker-compose.yml against the Compose Specification's JSON schema (no Docker engine needed),
plus the rules the schema cannot know: health checks, volumes, queues, loopback ports, and an
``.env.example`` that documents every variable the settings, gunicorn and compose read."""

import ast
import copy
import json
import re
from importlib import resources
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
COMPOSE = ROOT / "docker-compose.yml"
DOCKERFILE = ROOT / "Dockerfile"
ENV_EXAMPLE = ROOT / ".env.example"
# Read by the processes or tools themselves, not by our configuration.
NOT_OURS = {"DJANGO_SETTINGS_MODULE"}


def compose_schema() -> dict:
    """The Compose Specification schema, as vendored by check-jsonschema (a dev dependency)."""
    try:
        vendor = resources.files("check_jsonschema.builtin_schemas.vendor")
    except ModuleNotFoundError:
        pytest.fail("check-jsonschema is missing: it ships the Compose schema (make install).")
    return json.loads((vendor / "compose-spec.json").read_text())


def load_yaml(text: str) -> dict:
    from ruamel.yaml import YAML

    # Plain data (anchors and merge keys resolved), as docker compose reads it.
    return json.loads(json.dumps(YAML(typ="safe", pure=True).load(text)))


@pytest.fixture(scope="module")
def compose() -> dict:
    return load_yaml(COMPOSE.read_text())


def schema_errors(document: dict) -> list[str]:
    from jsonschema import Draft202012Validator

    validator = Draft202012Validator(compose_schema())
    return [
        f"{'/'.join(map(str, e.absolute_path))}: {e.message}"
        for e in validator.iter_errors(document)
    ]


def test_compose_file_is_valid_against_the_compose_specification(compose):
    assert schema_errors(compose) == []


def test_the_schema_catches_a_typo(compose):
    broken = copy.deepcopy(compose)
    broken["services"]["web"]["healtcheck"] = broken["services"]["web"].pop("healthcheck")
    broken["services"]["worker"]["depends_on"]["db"]["condition"] = "service_up"
    errors = schema_errors(broken)
    assert any("healtcheck" in e for e in errors), errors
    assert any("service_up" in e for e in errors), errors


def test_the_services(compose):
    services = compose["services"]
    assert set(services) == {"migrate", "web", "worker", "beat", "db", "redis", "mailpit"}
    assert "gunicorn" in services["web"]["command"]
    worker = services["worker"]["command"]
    assert worker[worker.index("-Q") + 1] == "default,reports,mail"
    assert "beat" in " ".join(services["beat"]["command"])


def test_every_long_running_service_has_a_health_check_and_restarts(compose):
    for name, service in compose["services"].items():
        if name == "migrate":  # a one-off, judged by its exit code
            assert service["restart"] == "no"
            continue
        check = service.get("healthcheck", {})
        assert check.get("test") and not check.get("disable"), f"{name} has no health check"
        assert service["restart"] == "unless-stopped", name


def test_app_services_wait_for_migrations_and_healthy_backends(compose):
    for name in ("web", "worker", "beat"):
        depends = compose["services"][name]["depends_on"]
        assert depends["migrate"]["condition"] == "service_completed_successfully", name
        assert depends["redis"]["condition"] == "service_healthy", name


def test_named_volumes_are_declared_and_used(compose):
    declared = set(compose["volumes"])
    used = {
        volume.split(":", 1)[0]
        for service in compose["services"].values()
        for volume in service.get("volumes", [])
        if not volume.startswith((".", "/"))
    }
    assert used == declared == {"pgdata", "redisdata", "media", "beat"}


def test_published_ports_are_on_the_loopback_only(compose):
    for name, service in compose["services"].items():
        for port in service.get("ports", []):
            assert port.startswith("127.0.0.1:"), f"{name} publishes {port} to every interface"


def test_redis_keeps_queued_tasks_across_a_restart(compose):
    redis = compose["services"]["redis"]
    assert "--appendonly" in redis["command"] and "redisdata:/data" in redis["volumes"]


def test_migrations_give_up_on_a_held_lock(compose):
    migrate = compose["services"]["migrate"]["environment"]
    assert migrate["PGOPTIONS"] == "-c lock_timeout=10s"
    assert migrate["TSHAPE_ENV"] == "production"  # the mapping replaces x-app's, not merges


def test_logs_are_rotated(compose):
    for name, service in compose["services"].items():
        assert service.get("logging", {}).get("options", {}).get("max-size"), name


# --- the Dockerfile ----------------------------------------------------------------------------


def test_dockerfile_is_multi_stage_and_runs_unprivileged():
    text = DOCKERFILE.read_text()
    stages = re.findall(r"^FROM\s+(\S+)(?:\s+AS\s+(\w+))?", text, re.MULTILINE | re.IGNORECASE)
    assert len(stages) == 2 and stages[0][1] == "builder" and "slim" in stages[1][0]
    runtime = text[text.rindex("\nFROM ") :]
    assert re.search(r"^USER\s+tshape\s*$", runtime, re.MULTILINE)
    assert "COPY --from=builder" in runtime and "collectstatic" in text[: text.rindex("\nFROM ")]
    for package in ("fonts-wqy-microhei", "libpango-1.0-0", "libpangoft2-1.0-0"):
        assert package in runtime, package
    assert "config/gunicorn.py" in runtime and (ROOT / "config" / "gunicorn.py").exists()


def test_the_build_context_leaves_secrets_and_local_state_out():
    ignored = set((ROOT / ".dockerignore").read_text().split())
    assert {".env", ".venv", "var", "node_modules", ".git"} <= ignored


# --- .env.example ------------------------------------------------------------------------------


def env_example() -> dict[str, str]:
    """Documented variables: ``NAME=value`` lines, and ``# NAME=value`` for optional ones."""
    found = {}
    for line in ENV_EXAMPLE.read_text().splitlines():
        match = re.match(r"^#?\s*([A-Z][A-Z0-9_]*)=(.*)$", line)
        if match:
            found[match[1]] = match[2]
    return found


def variables_read_by(path: Path) -> set[str]:
    """Names passed to env.str/bool/int/list/…(), os.environ.get(), os.getenv() or _int()."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if not isinstance(node, ast.Call) or not node.args:
            continue
        first = node.args[0]
        if not (isinstance(first, ast.Constant) and isinstance(first.value, str)):
            continue
        func = ast.unparse(node.func)
        reader = re.match(r"^(env(\.\w+)?|os\.environ\.get|os\.getenv|_int)$", func)
        if reader and re.match(r"^[A-Z][A-Z0-9_]+$", first.value):
            names.add(first.value)
    return names


def test_every_variable_the_configuration_reads_is_documented():
    read = set()
    for path in (ROOT / "config").glob("*.py"):
        read |= variables_read_by(path)
    read -= NOT_OURS
    assert {"SECRET_KEY", "DATABASE_URL", "LOG_FORMAT", "GUNICORN_WORKERS"} <= read
    missing = sorted(read - set(env_example()))
    assert not missing, f"add to .env.example (with a comment): {missing}"


def test_every_documented_variable_is_read_somewhere(compose):
    read = set()
    for path in (ROOT / "config").glob("*.py"):
        read |= variables_read_by(path)
    unused = sorted(set(env_example()) - read - interpolated())
    assert not unused, f"documented in .env.example but read by nothing: {unused}"


def test_compose_interpolation_is_satisfied_by_the_example(compose):
    assert interpolated() <= set(env_example())
    assert all(service.get("env_file") == ".env" for service in app_services(compose))


def interpolated() -> set[str]:
    """``${NAME…}`` that compose fills in from .env (``$${NAME}`` is the container's own)."""
    return set(re.findall(r"(?<!\$)\$\{([A-Z][A-Z0-9_]*)", COMPOSE.read_text()))


def app_services(compose) -> list[dict]:
    return [compose["services"][name] for name in ("migrate", "web", "worker", "beat")]
