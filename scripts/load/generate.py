"""Fallback load data, used by scripts/load/run.py only where ``generate_load_data`` (issue 6) does
not exist: a province → cities → teams of ten (one head each) with LOAD_MANAGERS managers and one
closed cycle whose ratings are set by two UPDATE statements.

Runs inside Django with the stack's environment (``scripts/prod_manage.sh shell -c …``); set-based
(bulk inserts, the cycle service's INSERT … SELECT, UPDATEs): seconds for 20,000 managers.
"""

import os
from datetime import timedelta

from django.contrib.auth.models import Group
from django.db import transaction
from django.db.models.functions import Random
from django.utils import timezone

from accounts.models import OrgUnit, User
from accounts.permissions import Role
from assessments import services
from assessments.models import Assessment, Cycle, Rating
from competency.models import ModelVersion
from competency.services import install_default_model

TEAM = 10
TEAMS_PER_CITY = 100


def units(teams: int) -> list[OrgUnit]:
    province = OrgUnit.objects.create(code="LOADFB", name_zh="压测省公司", name_en="Load province")
    result = []
    for c in range(0, teams, TEAMS_PER_CITY):
        city = OrgUnit.objects.create(
            code=f"LOADFB-C{c // TEAMS_PER_CITY}",
            name_zh=f"压测市{c // TEAMS_PER_CITY}",
            name_en=f"Load city {c // TEAMS_PER_CITY}",
            kind=OrgUnit.Kind.CITY,
            parent=province,
        )
        for t in range(c, min(c + TEAMS_PER_CITY, teams)):
            team = OrgUnit.objects.create(
                code=f"LOADFB-T{t}", name_zh=f"压测团队{t}", name_en=f"Load team {t}", parent=city
            )
            result.append(team)
    return result


def people(teams: list[OrgUnit], managers: int) -> None:
    rows = []
    for i in range(managers):
        team = teams[i // TEAM]
        rows.append(
            User(
                username=f"lfb{i:06d}",
                display_name=f"压测经理{i}",
                employee_no=f"LFB{i:06d}",
                org_unit=team,
                job_grade="G2",
            )
        )
    for team in teams:
        rows.append(
            User(
                username=f"lfbhead{team.pk}",
                display_name=f"压测主管{team.pk}",
                employee_no=f"LFBH{team.pk}",
                org_unit=team,
                job_grade="G4",
            )
        )
    for user in rows:
        user.set_unusable_password()  # the load test signs in with sessions, not passwords
    User.objects.bulk_create(rows, batch_size=2000)
    created = User.objects.filter(username__startswith="lfb")
    Group.objects.get(name=Role.MANAGER).user_set.add(
        *created.exclude(username__startswith="lfbhead")
    )
    heads = created.filter(username__startswith="lfbhead")
    Group.objects.get(name=Role.SUPERVISOR).user_set.add(*heads)
    for head in heads:
        head.org_unit.heads.add(head)


def closed_cycle(root: OrgUnit) -> None:
    hr = User.objects.filter(username__startswith="lfbhead").first()
    today = timezone.localdate()
    cycle = Cycle.objects.create(
        name="压测周期",
        model_version=ModelVersion.objects.published().order_by("-number").first(),
        self_deadline=today - timedelta(days=30),
        review_deadline=today - timedelta(days=10),
        created_by=hr,
    )
    cycle.participant_units.add(root)
    services.open_cycle(cycle=cycle, by=hr)
    # Levels 1–5 from the database's random(), in one statement for all ratings.
    Rating.objects.filter(assessment__cycle=cycle).update(
        self_level=1 + Random() * 4, supervisor_level=1 + Random() * 4
    )
    Rating.objects.filter(assessment__cycle=cycle).update(final_level=1 + Random() * 4)
    Assessment.objects.filter(cycle=cycle).update(status=Assessment.Status.COMPLETED)
    Cycle.objects.filter(pk=cycle.pk).update(status=Cycle.Status.CLOSED)


def generate(managers: int) -> None:
    install_default_model()
    with transaction.atomic():
        teams = units(-(-managers // TEAM))
        people(teams, managers)
        closed_cycle(teams[0].parent.parent)


if __name__ == "__main__":
    count = int(os.environ.get("LOAD_MANAGERS", "20000"))
    generate(count)
    print(f"fallback load data: {count} managers in teams of {TEAM}, one closed cycle")
