"""A realistic organisation for load tests and the benchmark (``manage.py generate_load_data``).

Province → cities → districts → teams of 8–15 managers (each team with its head), N managers in
all, four closed cycles with self, supervisor and final ratings, industry depths and T shapes.
Rows are generated in Python (a seeded random) and written with PostgreSQL's COPY (plain batched
INSERTs on other databases), ids assigned up front and the sequences moved past them afterwards:
20,000 managers take seconds, not minutes.
"""

import io
import random
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group
from django.core.management.color import no_style
from django.db import connection, models, transaction
from django.db.models import Max
from django.utils import timezone

from accounts.models import OrgUnit, User
from accounts.permissions import Role
from assessments.demo import CATEGORY_BIAS, GRADE_TARGET_MEAN
from competency.models import ModelVersion
from competency.profiles import Thresholds, classify
from competency.services import install_default_model

from ..models import Assessment, Cycle, IndustryRating, Rating

ROOT_CODE = "LOAD"
PASSWORD = "tshape-demo"
CITIES = [
    "江州",
    "海平",
    "云川",
    "金河",
    "石门",
    "青阳",
    "白沙",
    "龙泉",
    "东临",
    "南浦",
    "西岭",
    "北桥",
    "宁远",
    "安源",
    "临川",
    "长丰",
    "清河",
    "秀水",
    "丰城",
    "永安",
]
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
    "霞",
    "平",
    "刚",
    "晨",
    "思远",
    "雨桐",
    "子涵",
    "浩然",
    "欣怡",
]
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董"
MANAGER_GRADES = [("G1", 15), ("G2", 35), ("G3", 30), ("G4", 14), ("G5", 5), ("", 1)]


class LoadDataExists(Exception):
    """The load organisation is there already (a fresh database is the way to change its size)."""


@dataclass
class Person:
    id: int
    unit: int
    grade: str
    ability: float
    role: str
    supervisor: int | None = None


_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def _copy_value(value) -> str:
    """One field in COPY's text format: \\N for NULL, t/f for booleans, escaped text."""
    if value is None:
        return "\\N"
    if value is True or value is False:
        return "t" if value else "f"
    if isinstance(value, str):
        return value.translate(_COPY_ESCAPES)
    return str(value)


def _copy(model_or_table, columns: list[str], rows) -> int:
    """Write rows fast: COPY … FROM STDIN on PostgreSQL, batched INSERTs elsewhere."""
    table = model_or_table if isinstance(model_or_table, str) else model_or_table._meta.db_table
    rows = list(rows)
    if not rows:
        return 0
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            buffer = io.StringIO()
            buffer.writelines("\t".join(map(_copy_value, row)) + "\n" for row in rows)
            buffer.seek(0)
            names = ", ".join(connection.ops.quote_name(c) for c in columns)
            cursor.copy_expert(f"COPY {table} ({names}) FROM STDIN", buffer)
        else:
            marks = ", ".join(["%s"] * len(columns))
            names = ", ".join(connection.ops.quote_name(c) for c in columns)
            sql = f"INSERT INTO {table} ({names}) VALUES ({marks})"  # noqa: S608
            for start in range(0, len(rows), 5000):
                cursor.executemany(sql, rows[start : start + 5000])
    return len(rows)


class Ids:
    """Hands out ids above the current maximum of each table; the sequences follow at the end."""

    def __init__(self):
        self.next: dict[str, int] = {}

    def take(self, model, count: int = 1) -> int:
        table = model._meta.db_table
        if table not in self.next:
            self.next[table] = (model.objects.aggregate(m=Max("pk"))["m"] or 0) + 1
        first = self.next[table]
        self.next[table] += count
        return first


def _reset_sequences(*models_):
    with connection.cursor() as cursor:
        for sql in connection.ops.sequence_reset_sql(no_style(), list(models_)):
            cursor.execute(sql)


def _name(rng) -> str:
    return rng.choice(SURNAMES) + rng.choice(GIVEN)


def _weighted(rng, table) -> str:
    codes, weights = zip(*table, strict=True)
    return rng.choices(codes, weights)[0]


def _org_shape(rng, managers: int) -> list[list[list[int]]]:
    """cities → districts → team sizes (8–15), summing to ``managers``."""
    teams = []
    left = managers
    while left > 0:
        size = min(rng.randint(8, 15), left)
        if 0 < left - size < 8:  # never leave a team smaller than 8 behind
            size = left if left <= 15 else left - 8
        teams.append(size)
        left -= size
    districts = []
    while teams:
        take = rng.randint(8, 18)
        districts.append(teams[:take])
        teams = teams[take:]
    cities = []
    while districts:
        take = rng.randint(6, 12)
        cities.append(districts[:take])
        districts = districts[take:]
    return cities


class Generator:
    """Builds the organisation, the people and the cycles in a handful of bulk writes."""

    def __init__(self, managers: int, seed: int, cycles: int):
        self.rng = random.Random(seed)
        self.managers = managers
        self.cycles = cycles
        self.ids = Ids()
        self.now = timezone.now()
        self.units: list[tuple] = []
        self.people: list[Person] = []
        self.heads: list[tuple[int, int]] = []

    # --- organisation ---------------------------------------------------------------------------

    def _unit(self, code, zh, en, kind, parent) -> tuple[int, str]:
        pk = self.ids.take(OrgUnit)
        path = f"{parent[1] if parent else '/'}{pk}/"
        parent_id = parent[0] if parent else None
        self.units.append((pk, code, zh, en, kind, parent_id, path, path.count("/") - 2))
        return pk, path

    def _person(self, unit, grade, role, supervisor=None) -> Person:
        base = GRADE_TARGET_MEAN.get(grade, 2.2)
        person = Person(
            id=self.ids.take(User),
            unit=unit,
            grade=grade,
            ability=base + self.rng.gauss(0, 0.35),
            role=role,
            supervisor=supervisor,
        )
        self.people.append(person)
        return person

    def _head(self, unit, grade, supervisor) -> Person:
        head = self._person(unit[0], grade, Role.SUPERVISOR, supervisor)
        self.heads.append((unit[0], head.id))
        return head

    def build_org(self) -> None:
        rng = self.rng
        province = self._unit(ROOT_CODE, "负载测试省公司", "Load Test Province", "province", None)
        chief = self._head(province, "G5", None)
        for c, districts in enumerate(_org_shape(rng, self.managers), 1):
            city_name = CITIES[(c - 1) % len(CITIES)] + ("" if c <= len(CITIES) else str(c))
            city = self._unit(
                f"{ROOT_CODE}-C{c:02d}", f"{city_name}市分公司", f"City {c}", "city", province
            )
            city_head = self._head(city, "G5", chief.id)
            for d, teams in enumerate(districts, 1):
                district = self._unit(
                    f"{ROOT_CODE}-C{c:02d}-D{d:02d}",
                    f"{city_name}第{d}区县",
                    f"City {c} District {d}",
                    "district",
                    city,
                )
                district_head = self._head(district, "G4", city_head.id)
                for t, size in enumerate(teams, 1):
                    team = self._unit(
                        f"{ROOT_CODE}-C{c:02d}-D{d:02d}-T{t:02d}",
                        f"{city_name}{d}区政企{t}部",
                        f"City {c} District {d} Team {t}",
                        "team",
                        district,
                    )
                    lead = self._head(team, rng.choice(["G3", "G4"]), district_head.id)
                    for _ in range(size):
                        grade = _weighted(rng, MANAGER_GRADES)
                        self._person(team[0], grade, Role.MANAGER, lead.id)

    def write_org(self) -> None:
        _copy(
            OrgUnit,
            ["id", "code", "name_zh", "name_en", "kind", "parent_id", "path", "depth"],
            self.units,
        )
        password = make_password(PASSWORD)
        now = self.now.isoformat()
        rows = [
            (
                p.id,
                password,
                None,
                False,
                f"load{p.id}",
                "",
                "",
                f"load{p.id}@example.com",
                False,
                True,
                now,
                _name(self.rng),
                f"L{p.id:08d}",
                "",
                "zh-hans",
                p.grade,
                p.unit,
            )
            for p in self.people
        ]
        _copy(User, [f.column for f in User._meta.concrete_fields], rows)
        groups = {
            role: Group.objects.get_or_create(name=role)[0].pk
            for role in (Role.MANAGER, Role.SUPERVISOR)
        }
        membership = User.groups.through
        first = self.ids.take(membership, len(self.people))
        _copy(
            membership,
            ["id", "user_id", "group_id"],
            [(first + i, p.id, groups[p.role]) for i, p in enumerate(self.people)],
        )
        heads = OrgUnit.heads.through
        first = self.ids.take(heads, len(self.heads))
        _copy(
            heads,
            ["id", "orgunit_id", "user_id"],
            [(first + i, unit, user) for i, (unit, user) in enumerate(self.heads)],
        )

    # --- cycles ---------------------------------------------------------------------------------

    def write_cycles(self, version: ModelVersion, province_id: int) -> list[int]:
        categories = list(version.categories.order_by("domain__order", "order"))
        industries = list(version.industries.values_list("pk", flat=True))
        thresholds = Thresholds.of(version)
        cycle_ids = []
        for k in range(self.cycles):
            year = timezone.localdate().year - self.cycles + k
            cycle = Cycle.objects.create(
                name=f"负载测试 {year} 年度能力评估",
                model_version=version,
                status=Cycle.Status.CLOSED,
                self_deadline=date(year, 11, 15),
                review_deadline=date(year, 11, 30),
                opened_at=self.now - timedelta(days=365 * (self.cycles - k)),
                closed_at=self.now - timedelta(days=365 * (self.cycles - k) - 60),
            )
            cycle.participant_units.add(province_id)
            self._write_cycle(cycle, k, categories, industries, thresholds)
            cycle_ids.append(cycle.pk)
        return cycle_ids

    def _write_cycle(self, cycle, k, categories, industries, thresholds) -> None:
        rng = self.rng
        first_assessment = self.ids.take(Assessment, len(self.people))
        first_rating = self.ids.take(Rating, len(self.people) * len(categories))
        assessments, ratings, depths = [], [], []
        rating_id = first_rating
        when: datetime = cycle.closed_at
        for i, person in enumerate(self.people):
            aid = first_assessment + i
            done = rng.random() < 0.96
            ability = person.ability + 0.12 * k
            levels = {}
            for category in categories:
                true = _clamp(
                    round(ability + CATEGORY_BIAS.get(category.code, 0) + rng.gauss(0, 0.55))
                )
                self_level = _clamp(true + rng.choice((0, 0, 1, 1, -1)))
                final = true if done else None
                levels[category.code] = final
                ratings.append((rating_id, aid, category.pk, self_level, "", final, "", final))
                rating_id += 1
            finals = []
            for industry in rng.sample(industries, k=rng.choice((1, 1, 1, 2, 2, 3))):
                depth = _clamp(round(ability + 0.2 + rng.gauss(0, 0.9)))
                final = depth if done else None
                finals.append(final)
                depths.append([aid, industry, _clamp(depth + rng.choice((0, 1))), final, final, ""])
            shape = classify(levels, finals, thresholds).shape if done else ""
            assessments.append(
                (
                    aid,
                    cycle.pk,
                    person.id,
                    person.unit,
                    person.grade,
                    Assessment.Status.COMPLETED if done else Assessment.Status.NOT_COMPLETED,
                    "",
                    "",
                    person.supervisor if done else None,
                    when.isoformat(),
                    when.isoformat() if done else None,
                    when.isoformat() if done else None,
                    shape,
                    3,
                    "",
                )
            )
        _copy(Assessment, [f.column for f in Assessment._meta.concrete_fields], assessments)
        _copy(Rating, [f.column for f in Rating._meta.concrete_fields], ratings)
        first_depth = self.ids.take(IndustryRating, len(depths))
        _copy(
            IndustryRating,
            [f.column for f in IndustryRating._meta.concrete_fields],
            [(first_depth + i, *row) for i, row in enumerate(depths)],
        )


def _skip_trigger_checks() -> None:
    """On PostgreSQL, as a superuser, skip the foreign-key triggers for this transaction.

    The generator writes ids it has just created, so the checks can only pass; queued for a
    million rows they would cost more than the writes themselves. Without the privilege the
    checks simply run.
    """
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
        row = cursor.fetchone()
        if row and row[0]:
            cursor.execute("SET LOCAL session_replication_role = replica")


def _clamp(level: int) -> int:
    return max(1, min(5, level))


def generate_load_data(*, managers: int, seed: int = 2026, cycles: int = 4) -> dict:
    """Create the load organisation once; refuses when it exists already."""
    if OrgUnit.objects.filter(code=ROOT_CODE).exists():
        raise LoadDataExists(ROOT_CODE)
    install_default_model()
    version = ModelVersion.objects.latest_published()
    generator = Generator(managers, seed, cycles)
    generator.build_org()
    with transaction.atomic():
        _skip_trigger_checks()
        generator.write_org()
        cycle_ids = generator.write_cycles(version, generator.units[0][0])
        through: list[type[models.Model]] = [User.groups.through, OrgUnit.heads.through]
        _reset_sequences(OrgUnit, User, Assessment, Rating, IndustryRating, *through)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    return {
        "units": len(generator.units),
        "people": len(generator.people),
        "managers": managers,
        "cycles": cycle_ids,
        "assessments": len(generator.people) * cycles,
    }
