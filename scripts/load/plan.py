"""The load test's plan: signed-in sessions for sampled managers and supervisors, and the URLs each
may read (resolved by URL name; a name that does not exist yet is skipped with a note).

Runs inside Django with the stack's environment (same SECRET_KEY, so the sessions are valid):

    bash scripts/prod_manage.sh shell -c "import runpy; runpy.run_path('scripts/load/plan.py',
        run_name='__main__')"   # with LOAD_PLAN=<file> LOAD_USERS=50

Sessions are written straight into the session table: a password hash costs about half a second
of CPU, which would make the sign-ins, not the pages, the load (docs/operations.md).
"""

import json
import os
import random

from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.sessions.backends.db import SessionStore
from django.urls import NoReverseMatch, reverse

from accounts.models import OrgUnit, User
from accounts.permissions import Role

# Target name → (URL name, who reads it, how to build its arguments and query).
TARGETS = {
    "home": ("home", "both"),
    "profile (own)": ("profiles:mine", "manager"),
    "profile (member)": ("profiles:person", "supervisor"),
    "team view": ("profiles:team", "supervisor"),
    "people list": ("accounts:people-list", "supervisor"),
    "api assessments": ("v1:assessment-list", "both"),
    "api people": ("v1:person-list", "supervisor"),
}


def backend() -> str:
    return next(
        (b for b in settings.AUTHENTICATION_BACKENDS if b.endswith("ModelBackend")),
        settings.AUTHENTICATION_BACKENDS[0],
    )


def session_for(user: User) -> str:
    store = SessionStore()
    store[SESSION_KEY] = str(user.pk)
    store[BACKEND_SESSION_KEY] = backend()
    store[HASH_SESSION_KEY] = user.get_session_auth_hash()
    store.create()
    return store.session_key


def url(name: str, user: dict) -> str:
    if name == "profiles:person":
        return reverse(name, kwargs={"person_id": user["member"]})
    path = reverse(name)
    if name in {"profiles:team", "accounts:people-list"}:
        return f"{path}?unit={user['unit']}"
    return path


def sample(count: int, rng: random.Random) -> list[dict]:
    managers = list(
        User.objects.filter(is_active=True, groups__name=Role.MANAGER)
        .exclude(headed_units__isnull=False)
        .values_list("pk", flat=True)
    )
    teams = list(
        OrgUnit.objects.filter(heads__isnull=False, children__isnull=True)
        .values_list("pk", "heads__pk")
        .distinct()
    )
    users = []
    for pk in rng.sample(managers, min(count - count // 2, len(managers))):
        users.append({"role": "manager", "user": pk})
    for unit, head in rng.sample(teams, min(count // 2, len(teams))):
        member = (
            User.objects.filter(org_unit_id=unit, is_active=True)
            .exclude(pk=head)
            .values_list("pk", flat=True)
            .first()
        )
        users.append({"role": "supervisor", "user": head, "unit": unit, "member": member})
    return users


def plan(count: int, seed: int = 2026) -> dict:
    rng = random.Random(seed)  # noqa: S311 - a reproducible sample, not a secret
    users = sample(count, rng)
    people = User.objects.in_bulk([u["user"] for u in users])
    skipped = {}
    for user in users:
        user["session"] = session_for(people[user["user"]])
        user["urls"] = {}
        for target, (name, role) in TARGETS.items():
            if role not in {"both", user["role"]}:
                continue
            try:
                user["urls"][target] = url(name, user)
            except NoReverseMatch:
                skipped[target] = f"URL name {name} does not exist yet"
    return {"users": users, "skipped": skipped}


if __name__ == "__main__":
    result = plan(int(os.environ.get("LOAD_USERS", "50")))
    with open(os.environ["LOAD_PLAN"], "w") as out:
        json.dump(result, out, ensure_ascii=False, indent=1)
    roles = [u["role"] for u in result["users"]]
    print(
        f"plan: {roles.count('manager')} managers, {roles.count('supervisor')} supervisors; "
        f"skipped: {result['skipped'] or 'none'}"
    )
