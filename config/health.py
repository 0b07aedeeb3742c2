"""The checks behind ``/healthz``: each returns "ok", "disabled" or "error: <why>".

"disabled" means the part is not configured (the embedded development mode runs Celery tasks in
the web process, with no broker); it does not make the site unhealthy. Error texts name the kind of
failure only, never a host, password or query: the endpoint answers without signing in.
"""

import threading
import time
from collections.abc import Callable

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections

CELERY_PING_TIMEOUT = 1.0  # seconds a worker has to answer
CELERY_CACHE_SECONDS = 5.0  # probes come every few seconds from every replica: ping less often
MIGRATIONS_CACHE_SECONDS = 60.0  # the migration graph is read from disk; it changes on deploy

_cache: dict[str, tuple[float, str]] = {}
_lock = threading.Lock()


def _cached(name: str, seconds: float, check: Callable[[], str], *, cache_errors: bool) -> str:
    now = time.monotonic()
    hit = _cache.get(name)
    if hit and hit[0] > now:
        return hit[1]
    result = check()
    if result == "ok" or cache_errors:
        with _lock:
            _cache[name] = (now + seconds, result)
    return result


def clear_cache() -> None:
    """Forget cached results (tests; a probe right after a deploy)."""
    with _lock:
        _cache.clear()


def _error(exc: Exception) -> str:
    return f"error: {exc.__class__.__name__}"


def check_database() -> str:
    try:
        with connections[DEFAULT_DB_ALIAS].cursor() as cursor:
            cursor.execute("SELECT 1")
        return "ok"
    except Exception as exc:  # any driver error means "down"; the class says which
        return _error(exc)


def _unapplied_migrations() -> str:
    from django.db.migrations.executor import MigrationExecutor

    try:
        executor = MigrationExecutor(connections[DEFAULT_DB_ALIAS])
        plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    except Exception as exc:
        return _error(exc)
    return "ok" if not plan else f"error: {len(plan)} unapplied migration(s)"


def check_migrations() -> str:
    # Only "ok" is cached: an unapplied migration is reported until the deploy has applied it.
    return _cached(
        "migrations", MIGRATIONS_CACHE_SECONDS, _unapplied_migrations, cache_errors=False
    )


def redis_url() -> str:
    broker = settings.CELERY_BROKER_URL or ""
    return settings.REDIS_URL or (broker if broker.startswith(("redis://", "rediss://")) else "")


def check_redis() -> str:
    url = redis_url()
    if not url:
        return "disabled"
    import redis

    client = redis.Redis.from_url(url, socket_connect_timeout=1, socket_timeout=1)
    try:
        return "ok" if client.ping() else "error: no PONG"
    except Exception as exc:
        return _error(exc)
    finally:
        client.close()


def _ping_workers() -> str:
    from config.celery_app import app

    # One connection attempt with short timeouts: kombu's default is to retry a lost broker for
    # a long while, which would hang the probe (and a gunicorn worker) while Redis is down.
    connection = app.connection_for_write(
        connect_timeout=1, transport_options={"socket_timeout": CELERY_PING_TIMEOUT + 1}
    )
    try:
        connection.ensure_connection(max_retries=1, interval_start=0, interval_step=0)
        replies = app.control.ping(timeout=CELERY_PING_TIMEOUT, limit=1, connection=connection)
    except Exception as exc:
        return _error(exc)
    finally:
        connection.release()
    if not replies:
        return f"error: no worker answered within {CELERY_PING_TIMEOUT:g} s"
    return "ok"


def check_celery() -> str:
    if not settings.CELERY_BROKER_URL:
        return "disabled"
    # Errors are cached too: a probe must not wait for the ping timeout on every call.
    return _cached("celery", CELERY_CACHE_SECONDS, _ping_workers, cache_errors=True)


CHECKS: dict[str, Callable[[], str]] = {
    "database": check_database,
    "redis": check_redis,
    "celery": check_celery,
    "migrations": check_migrations,
}


def run_checks(names: list[str] | None = None) -> dict[str, str]:
    """The named checks (all by default) with their results, in a fixed order."""
    return {name: CHECKS[name]() for name in (names or CHECKS)}


def healthy(results: dict[str, str]) -> bool:
    return all(value in ("ok", "disabled") for value in results.values())
