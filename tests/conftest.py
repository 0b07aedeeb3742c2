"""Shared fixtures: the default model and the personas every view test uses.

The organisation: province P → cities C1, C2 → team A (in C1), team B (in C2).
``supervisor`` heads team A, ``manager`` sits in team A, ``outsider`` is a manager in team B,
``outsider_supervisor`` heads team B, ``city_head`` heads city C1; ``hr`` and ``admin`` sit at P.
"""

import pytest

from accounts.models import OrgUnit
from accounts.permissions import Role
from competency.models import ModelVersion
from competency.services import install_default_model

from .factories import OrgUnitFactory, UserFactory


@pytest.fixture
def model_version(db) -> ModelVersion:
    """The published default model (installed once; survives per-test rollbacks)."""
    install_default_model()
    return ModelVersion.objects.published().order_by("number").first()


@pytest.fixture
def org(db):
    province = OrgUnitFactory(
        code="P", name_zh="省公司", name_en="Province", kind=OrgUnit.Kind.PROVINCE
    )
    c1 = OrgUnitFactory(
        code="C1", name_zh="甲市分公司", name_en="City 1", kind=OrgUnit.Kind.CITY, parent=province
    )
    c2 = OrgUnitFactory(
        code="C2", name_zh="乙市分公司", name_en="City 2", kind=OrgUnit.Kind.CITY, parent=province
    )
    team_a = OrgUnitFactory(code="A", name_zh="甲队", name_en="Team A", parent=c1)
    team_b = OrgUnitFactory(code="B", name_zh="乙队", name_en="Team B", parent=c2)
    return {"P": province, "C1": c1, "C2": c2, "A": team_a, "B": team_b}


def _head(unit, user):
    unit.heads.add(user)
    return user


@pytest.fixture
def admin_user(org):
    return UserFactory(username="admin", org_unit=org["P"], roles=[Role.ADMIN])


@pytest.fixture
def hr(org):
    return UserFactory(username="hr", org_unit=org["P"], roles=[Role.HR])


@pytest.fixture
def city_head(org):
    return _head(
        org["C1"], UserFactory(username="cityhead", org_unit=org["C1"], roles=[Role.SUPERVISOR])
    )


@pytest.fixture
def supervisor(org):
    return _head(
        org["A"], UserFactory(username="supervisor", org_unit=org["A"], roles=[Role.SUPERVISOR])
    )


@pytest.fixture
def manager(org, supervisor):
    return UserFactory(username="manager", org_unit=org["A"], roles=[Role.MANAGER], job_grade="G2")


@pytest.fixture
def outsider_supervisor(org):
    return _head(
        org["B"], UserFactory(username="outsidersup", org_unit=org["B"], roles=[Role.SUPERVISOR])
    )


@pytest.fixture
def outsider(org, outsider_supervisor):
    return UserFactory(username="outsider", org_unit=org["B"], roles=[Role.MANAGER])


@pytest.fixture
def personas(admin_user, hr, city_head, supervisor, manager, outsider_supervisor, outsider):
    return {
        "admin": admin_user,
        "hr": hr,
        "city_head": city_head,
        "supervisor": supervisor,
        "manager": manager,
        "outsider_supervisor": outsider_supervisor,
        "outsider": outsider,
    }


from .browser import browser, page  # noqa: E402,F401  (fixtures for the browser tests)


@pytest.fixture
def draft_cycle(model_version, hr, org):
    from datetime import date

    from assessments.models import Cycle

    cycle = Cycle.objects.create(
        name="2026 年度评估",
        model_version=model_version,
        self_deadline=date(2026, 12, 15),
        review_deadline=date(2026, 12, 31),
        created_by=hr,
    )
    cycle.participant_units.add(org["P"])
    return cycle


@pytest.fixture
def open_cycle(draft_cycle, personas, hr):
    """An open cycle over the whole province: every manager and supervisor has an assessment."""
    from assessments.services import open_cycle

    open_cycle(cycle=draft_cycle, by=hr)
    draft_cycle.refresh_from_db()
    return draft_cycle


from .worker import celery_worker  # noqa: E402,F401  (a real Celery worker process)
