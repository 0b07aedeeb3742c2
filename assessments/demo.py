"""The demo organisation and one closed cycle of plausible ratings (``manage.py seed_demo``).

Idempotent: units, people and the cycle are found by their natural keys and created only once.
"""

import random
from datetime import date, timedelta

from django.contrib.auth.models import Group
from django.db import transaction
from django.test.utils import override_settings
from django.utils import timezone

from accounts.models import OrgUnit, User
from accounts.permissions import Role
from competency.models import ModelVersion
from competency.profiles import Thresholds, classify
from competency.services import install_default_model

from . import services
from .certification.demo import seed_certification_demo
from .models import Assessment, AssessmentEvent, Cycle, IndustryRating, Rating
from .profiles.demo import seed_profiles_demo

DEMO_PASSWORD = "tshape-demo"
DEMO_CYCLE_NAME = "2025年度能力摸底评估"
DEMO_OPEN_CYCLE_NAME = "2026年度能力评估"

UNITS = [
    # code, parent, zh, en, kind
    ("DEMO", None, "示范省公司", "Demo Province Co.", OrgUnit.Kind.PROVINCE),
    ("DEMO-EH", "DEMO", "东湖市分公司", "Donghu City Branch", OrgUnit.Kind.CITY),
    ("DEMO-XS", "DEMO", "西山市分公司", "Xishan City Branch", OrgUnit.Kind.CITY),
    ("DEMO-EH-GOV", "DEMO-EH", "东湖政企一部", "Donghu Enterprise Team 1", OrgUnit.Kind.TEAM),
    ("DEMO-EH-IND", "DEMO-EH", "东湖政企二部", "Donghu Enterprise Team 2", OrgUnit.Kind.TEAM),
    ("DEMO-XS-GOV", "DEMO-XS", "西山政企一部", "Xishan Enterprise Team 1", OrgUnit.Kind.TEAM),
    ("DEMO-XS-IND", "DEMO-XS", "西山政企二部", "Xishan Enterprise Team 2", OrgUnit.Kind.TEAM),
]
TEAMS = [code for code, _p, _z, _e, kind in UNITS if kind == OrgUnit.Kind.TEAM]

# username, display name, unit, roles, heads the unit, job grade
NAMED_PEOPLE = [
    ("admin", "系统管理员", "DEMO", [Role.ADMIN], False, ""),
    ("hr", "人力资源部 王敏", "DEMO", [Role.HR], False, ""),
    ("province_head", "省政企部总经理 陈刚", "DEMO", [Role.SUPERVISOR], True, "G5"),
    ("eh_head", "东湖分公司经理 李强", "DEMO-EH", [Role.SUPERVISOR], True, "G4"),
    ("xs_head", "西山分公司经理 赵磊", "DEMO-XS", [Role.SUPERVISOR], True, "G4"),
    ("supervisor", "张伟（政企一部主管）", "DEMO-EH-GOV", [Role.SUPERVISOR], True, "G4"),
    ("eh_ind_head", "刘洋（政企二部主管）", "DEMO-EH-IND", [Role.SUPERVISOR], True, "G4"),
    ("xs_gov_head", "杨帆（政企一部主管）", "DEMO-XS-GOV", [Role.SUPERVISOR], True, "G4"),
    ("xs_ind_head", "黄静（政企二部主管）", "DEMO-XS-IND", [Role.SUPERVISOR], True, "G3"),
    ("manager", "周婷", "DEMO-EH-GOV", [Role.MANAGER], False, "G2"),
    ("outsider", "吴昊", "DEMO-XS-GOV", [Role.MANAGER], False, "G2"),
]
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董"
GIVEN = [
    "伟",
    "芳",
    "娜",
    "敏",
    "静",
    "丽",
    "强",
    "磊",
    "军",
    "洋",
    "勇",
    "艳",
    "杰",
    "娟",
    "涛",
    "明",
    "超",
    "秀英",
    "霞",
    "平",
    "刚",
    "桂英",
    "晨",
    "思远",
    "雨桐",
    "子涵",
    "浩然",
    "欣怡",
]
MANAGERS_PER_TEAM = 9
GRADE_TARGET_MEAN = {"G1": 1.6, "G2": 2.4, "G3": 3.1, "G4": 3.6, "G5": 4.2}
# The article: IT knowledge is most managers' weakest spot; project management and
# problem handling lag as well.
CATEGORY_BIAS = {"1.3": -0.8, "2.1": -0.4, "2.2": -0.3, "1.4": 0.3, "1.5": 0.4}


class DemoRefused(Exception):
    """seed_demo never runs against production data."""


def seed_demo(*, stdout=None) -> dict:
    """Create (once) the demo organisation, people and one closed cycle; return what was created."""
    from django.conf import settings

    if settings.PRODUCTION:
        raise DemoRefused(
            "seed_demo refuses to run under production settings (TSHAPE_ENV=production)."
        )
    install_default_model()
    # The demo's workflow steps would e-mail forty people; nobody needs those messages.
    with (
        override_settings(EMAIL_BACKEND="django.core.mail.backends.dummy.EmailBackend"),
        transaction.atomic(),
    ):
        units = _seed_units()
        people = _seed_people(units)
        cycle = _seed_cycle(units, people)
        open_cycle = _seed_open_cycle(units, people)
    # Certification needs both cycles committed: applications stand on completed assessments.
    seed_certification_demo()
    seed_profiles_demo()
    return {
        "units": len(units),
        "people": len(people),
        "cycle": cycle.pk,
        "open_cycle": open_cycle.pk,
    }


def _seed_units() -> dict[str, OrgUnit]:
    units: dict[str, OrgUnit] = {}
    for code, parent, zh, en, kind in UNITS:
        unit = OrgUnit.objects.filter(code=code).first()
        if unit is None:
            unit = OrgUnit.objects.create(
                code=code, parent=units.get(parent), name_zh=zh, name_en=en, kind=kind
            )
        units[code] = unit
    return units


def _demo_people_specs():
    rng = random.Random(20251)  # noqa: S311 - demo data, reproducible on purpose
    specs = list(NAMED_PEOPLE)
    n = 0
    for team in TEAMS:
        for _i in range(MANAGERS_PER_TEAM - (1 if team in {"DEMO-EH-GOV", "DEMO-XS-GOV"} else 0)):
            n += 1
            name = rng.choice(SURNAMES) + rng.choice(GIVEN)
            grade = rng.choice(["G1", "G2", "G2", "G2", "G3", "G3", "G4"])
            specs.append((f"am{n:03d}", name, team, [Role.MANAGER], False, grade))
    return specs


def _seed_people(units) -> dict[str, User]:
    groups = {role: Group.objects.get_or_create(name=role)[0] for role in Role.values}
    specs = _demo_people_specs()
    existing = {u.username: u for u in User.objects.filter(username__in=[s[0] for s in specs])}
    password_hash = None
    people: dict[str, User] = {}
    for i, (username, name, unit, roles, heads, grade) in enumerate(specs, start=1):
        person = existing.get(username)
        if person is None:
            if password_hash is None:
                # One hash for every demo account: hashing forty times would cost ~20 s.
                probe = User(username="probe")
                probe.set_password(DEMO_PASSWORD)
                password_hash = probe.password
            person = User.objects.create(
                username=username,
                display_name=name,
                email=f"{username}@demo.tshape.local",
                employee_no=f"D{i:05d}",
                org_unit=units[unit],
                job_grade=grade,
                password=password_hash,
                is_staff=username == "admin",
                is_superuser=username == "admin",
            )
            person.groups.set([groups[r] for r in roles])
            if heads:
                units[unit].heads.add(person)
        people[username] = person
    return people


def _seed_cycle(units, people) -> Cycle:
    cycle = Cycle.objects.filter(name=DEMO_CYCLE_NAME).first()
    if cycle is not None:
        return cycle
    version = ModelVersion.objects.published().order_by("number").first()
    now = timezone.now()
    cycle = Cycle.objects.create(
        name=DEMO_CYCLE_NAME,
        model_version=version,
        status=Cycle.Status.CLOSED,
        self_deadline=date(2025, 11, 15),
        review_deadline=date(2025, 11, 30),
        created_by=people["hr"],
        opened_at=now,
        closed_at=now,
    )
    cycle.participant_units.add(units["DEMO"])
    _seed_ratings(cycle, version, [p for p in people.values() if p.username not in {"admin", "hr"}])
    return cycle


def _seed_ratings(cycle, version, participants):
    rng = random.Random(2025)  # noqa: S311 - demo data, reproducible on purpose
    categories = list(version.categories.all())
    industries = list(version.industries.order_by("order"))
    now = timezone.now()
    for person in participants:
        reviewer = person.supervisors().first()
        # A handful of people never finished: closing marks them "not completed", never zero.
        completed = rng.random() > 0.08 or person.username in {"manager", "outsider", "supervisor"}
        assessment = Assessment.objects.create(
            cycle=cycle,
            person=person,
            org_unit=person.org_unit,
            target_grade=person.job_grade,
            status=Assessment.Status.COMPLETED if completed else Assessment.Status.NOT_COMPLETED,
            reviewer=reviewer if completed else None,
            submitted_at=now if completed else None,
            completed_at=now if completed else None,
        )
        mean = GRADE_TARGET_MEAN.get(person.job_grade, 2.2)
        ratings = []
        for category in categories:
            true = _clamp(round(rng.gauss(mean + CATEGORY_BIAS.get(category.code, 0), 0.7)))
            self_level = _clamp(true + rng.choice([0, 0, 1, 1, -1]))
            supervisor_level = true if completed else None
            ratings.append(
                Rating(
                    assessment=assessment,
                    category=category,
                    self_level=self_level,
                    supervisor_level=supervisor_level,
                    final_level=cycle.final_level(self_level, supervisor_level),
                )
            )
        Rating.objects.bulk_create(ratings)
        for industry in rng.sample(industries, k=rng.choice([1, 1, 2])):
            depth = _clamp(round(rng.gauss(mean + 0.3, 0.9)))
            IndustryRating.objects.create(
                assessment=assessment,
                industry=industry,
                self_depth=_clamp(depth + rng.choice([0, 1])),
                supervisor_depth=depth if completed else None,
                final_depth=depth if completed else None,
                evidence="客户SWOT分析（示例）" if depth >= 3 else "",
            )
        if completed:
            assessment.classification = classify(
                {r.category.code: r.final_level for r in ratings},
                list(assessment.industry_ratings.values_list("final_depth", flat=True)),
                Thresholds.of(version),
            ).shape
            assessment.save(update_fields=["classification"])
        action = (
            AssessmentEvent.Action.COMPLETED if completed else AssessmentEvent.Action.NOT_COMPLETED
        )
        AssessmentEvent.objects.create(
            assessment=assessment, action=action, actor=reviewer if completed else None
        )


def _seed_open_cycle(units, people) -> Cycle:
    """An open cycle with assessments in every state, driven through the real workflow."""
    cycle = Cycle.objects.filter(name=DEMO_OPEN_CYCLE_NAME).first()
    if cycle is not None:
        return cycle
    today = timezone.localdate()
    cycle = Cycle.objects.create(
        name=DEMO_OPEN_CYCLE_NAME,
        model_version=ModelVersion.objects.published().order_by("-number").first(),
        self_deadline=today + timedelta(days=14),
        review_deadline=today + timedelta(days=28),
        created_by=people["hr"],
    )
    cycle.participant_units.add(units["DEMO"])
    services.open_cycle(cycle=cycle, by=people["hr"])
    rng = random.Random(2026)  # noqa: S311 - demo data, reproducible on purpose
    plan = _open_cycle_plan(cycle)
    for assessment, state in plan:
        _drive(assessment, state, rng)
    return cycle


def _open_cycle_plan(cycle):
    """Which demo assessment ends in which state (the named logins in telling ones)."""
    states = ["completed", "submitted", "returned", "self_in_progress", "not_started"]
    plan = []
    for i, assessment in enumerate(
        cycle.assessments.select_related("person").order_by("person__employee_no")
    ):
        username = assessment.person.username
        if username == "manager":
            state = "self_in_progress"
        elif username in {"outsider", "supervisor", "eh_head", "xs_head", "province_head"}:
            state = "not_started"  # the named logins find their own work still to do
        else:
            state = states[i % len(states)]
        plan.append((assessment, state))
    return plan


def _drive(assessment, state, rng):
    if state == "not_started":
        return
    person = assessment.person
    codes = list(
        assessment.ratings.order_by("category__domain__order", "category__order").values_list(
            "category__code", flat=True
        )
    )
    mean = GRADE_TARGET_MEAN.get(person.job_grade, 2.2)
    levels = {c: _clamp(round(rng.gauss(mean + CATEGORY_BIAS.get(c, 0), 0.7))) for c in codes}
    partial = codes if state != "self_in_progress" else codes[:5]
    assessment = services.save_self_assessment(
        assessment=assessment,
        by=person,
        revision=assessment.revision,
        ratings={c: services.RatingInput(levels[c], "") for c in partial},
        industries={
            "government": services.IndustryInput(_clamp(round(mean)), "政务客户SWOT（示例）")
        },
    )
    if state == "self_in_progress":
        return
    assessment = services.submit_self_assessment(
        assessment=assessment, by=person, revision=assessment.revision
    )
    if state == "submitted":
        return
    supervisor = person.supervisors().first()
    if state == "returned":
        services.return_assessment(
            assessment=assessment,
            by=supervisor,
            revision=assessment.revision,
            reason="请为“IT知识”补充项目案例。",
        )
        return
    assessment = services.save_review(
        assessment=assessment,
        by=supervisor,
        revision=assessment.revision,
        ratings={
            c: services.RatingInput(max(1, levels[c] - rng.choice([0, 0, 1])), "") for c in codes
        },
        depths={"government": _clamp(round(mean))},
    )
    services.complete_assessment(assessment=assessment, by=supervisor, revision=assessment.revision)


def _clamp(level: int) -> int:
    return max(1, min(5, level))
