"""Demo content for the profile dashboards (called from ``seed_demo``).

Idempotent: resources are found by course code, goals by title, and the supervisor's comment is
written only when the goal has none.
"""

from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from accounts.models import User
from competency.profiles import Thresholds, classify

from ..models import (
    Assessment,
    Cycle,
    DevelopmentGoal,
    GoalComment,
    IndustryRating,
    LearningResource,
    Rating,
)

# category code → [(course code, level, language, title zh, title en)]
RESOURCES = {
    "1.1": [
        (
            "KC-INFO-201",
            2,
            "zh-hans",
            "客户信息收集与整理实务",
            "Collecting and organising customer information",
        ),
        (
            "KC-INFO-301",
            3,
            "zh-hans",
            "集团客户信息分析与商机挖掘",
            "Analysing customer information for opportunities",
        ),
        (
            "EN-INFO-401",
            4,
            "en",
            "Account intelligence for enterprise sales",
            "Account intelligence for enterprise sales",
        ),
    ],
    "1.2": [
        (
            "KC-SELL-301",
            3,
            "zh-hans",
            "顾问式销售：需求挖掘与方案呈现",
            "Consultative selling: needs and presentation",
        ),
        (
            "KC-SELL-401",
            4,
            "zh-hans",
            "价值型销售：为客户创造价值的信息化方案",
            "Value selling with ICT solutions",
        ),
        ("EN-SELL-301", 3, "en", "Solution selling fundamentals", "Solution selling fundamentals"),
    ],
    "1.3": [
        (
            "KC-IT-201",
            2,
            "zh-hans",
            "通信与计算机网络基础",
            "Basics of communications and computer networks",
        ),
        (
            "KC-IT-301",
            3,
            "zh-hans",
            "与客户IT部门对话：组网、云与信息安全",
            "Talking to the customer's IT: networks, cloud, security",
        ),
        (
            "EN-IT-301",
            3,
            "en",
            "Enterprise networking and cloud essentials",
            "Enterprise networking and cloud essentials",
        ),
        (
            "KC-IT-401",
            4,
            "zh-hans",
            "信息安全等级保护与解决方案",
            "Information security compliance and solutions",
        ),
    ],
    "1.4": [
        (
            "KC-COMM-301",
            3,
            "zh-hans",
            "客户关系图谱与影响力",
            "Customer relationship maps and influence",
        ),
        ("EN-COMM-401", 4, "en", "Negotiating complex B2B deals", "Negotiating complex B2B deals"),
    ],
    "1.5": [
        (
            "KC-SERV-301",
            3,
            "zh-hans",
            "集团客户服务规范与投诉处理",
            "Enterprise customer service and complaint handling",
        ),
        (
            "EN-SERV-301",
            3,
            "en",
            "Managing customer expectations",
            "Managing customer expectations",
        ),
    ],
    "2.1": [
        (
            "KC-PM-301",
            3,
            "zh-hans",
            "信息化项目管理：计划、执行与复盘",
            "ICT project management: plan, run, review",
        ),
        (
            "EN-PM-401",
            4,
            "en",
            "Project risk and critical path management",
            "Project risk and critical path management",
        ),
    ],
    "2.2": [
        ("KC-PROB-301", 3, "zh-hans", "问题分析与根因定位方法", "Problem analysis and root causes"),
        ("EN-PROB-301", 3, "en", "Structured problem solving", "Structured problem solving"),
    ],
    "3.1": [
        (
            "KC-TEAM-301",
            3,
            "zh-hans",
            "跨部门虚拟团队协作",
            "Working in cross-department virtual teams",
        ),
        (
            "EN-TEAM-301",
            3,
            "en",
            "Collaboration in matrix organisations",
            "Collaboration in matrix organisations",
        ),
    ],
    "3.2": [
        (
            "KC-SHARE-301",
            3,
            "zh-hans",
            "经验萃取与案例分享",
            "Capturing and sharing field experience",
        ),
        ("EN-SHARE-301", 3, "en", "Knowledge sharing that works", "Knowledge sharing that works"),
    ],
    "4.1": [
        ("KC-LEARN-301", 3, "zh-hans", "制定个人学习计划", "Writing a personal learning plan"),
        ("EN-LEARN-301", 3, "en", "Learning from practice", "Learning from practice"),
    ],
    "4.2": [
        (
            "KC-INNO-301",
            3,
            "zh-hans",
            "营销与服务创新工作坊",
            "Workshop: innovating in sales and service",
        ),
        (
            "EN-INNO-401",
            4,
            "en",
            "Design thinking for account teams",
            "Design thinking for account teams",
        ),
    ],
    "4.3": [
        (
            "KC-CAREER-301",
            3,
            "zh-hans",
            "客户经理职业发展通道与认证",
            "Career paths and certification for account managers",
        ),
        (
            "EN-CAREER-301",
            3,
            "en",
            "Planning your career in B2B sales",
            "Planning your career in B2B sales",
        ),
    ],
}

# title, category, days until due, status
GOALS = [
    (
        "完成“与客户IT部门对话”课程并主导一次专线组网方案评审",
        "1.3",
        90,
        DevelopmentGoal.Status.IN_PROGRESS,
    ),
    ("为一家政务客户撰写完整的行业分析与SWOT", "1.2", 120, DevelopmentGoal.Status.PLANNED),
    ("作为项目经理完成一个信息化项目的复盘报告", "2.1", 180, DevelopmentGoal.Status.PLANNED),
]
COMMENT = "IT知识是当前最大的短板，先从专线与云组网入手，季度末我们一起复盘。"


def seed_profiles_demo() -> dict:
    """Learning resources for every category in both languages, and the demo manager's plan."""
    with transaction.atomic():
        resources = _seed_resources()
        goals = _seed_plan()
        classified = _classify_demo_results()
    return {"resources": resources, "goals": goals, "classified": classified}


def _seed_resources() -> int:
    existing = set(LearningResource.objects.values_list("course_code", flat=True))
    new = [
        LearningResource(
            category_code=code,
            course_code=course,
            target_level=level,
            language=language,
            title_zh=zh,
            title_en=en,
        )
        for code, rows in RESOURCES.items()
        for course, level, language, zh, en in rows
        if course not in existing
    ]
    LearningResource.objects.bulk_create(new)
    return len(new)


def _seed_plan() -> int:
    manager = User.objects.filter(username="manager").first()
    if manager is None:
        return 0
    today = timezone.localdate()
    created = 0
    for title, code, days, status in GOALS:
        goal, new = DevelopmentGoal.objects.get_or_create(
            person=manager,
            title=title,
            defaults={
                "category_code": code,
                "due_date": today + timedelta(days=days),
                "status": status,
            },
        )
        created += new
    first = DevelopmentGoal.objects.filter(person=manager, title=GOALS[0][0]).first()
    head = next(iter(manager.supervisors()), None)
    if first and head and not first.comments.exists():
        GoalComment.objects.create(goal=first, actor=head, note=COMMENT)
    return created


def _classify_demo_results() -> int:
    """The demo's closed cycle is written directly, without the completion step that stores the
    T-shape class; store it here (once) so the team dashboard can count the classes."""
    todo = list(
        Assessment.objects.filter(
            status=Assessment.Status.COMPLETED, classification="", cycle__status=Cycle.Status.CLOSED
        ).select_related("cycle__model_version")
    )
    if not todo:
        return 0
    levels: dict[int, dict] = {a.pk: {} for a in todo}
    for aid, code, final in Rating.objects.filter(assessment__in=todo).values_list(
        "assessment_id", "category__code", "final_level"
    ):
        levels[aid][code] = final
    depths: dict[int, list] = {a.pk: [] for a in todo}
    for aid, depth in IndustryRating.objects.filter(assessment__in=todo).values_list(
        "assessment_id", "final_depth"
    ):
        depths[aid].append(depth)
    for a in todo:
        thresholds = Thresholds.of(a.cycle.model_version)
        a.classification = classify(levels[a.pk], depths[a.pk], thresholds).shape
    Assessment.objects.bulk_update(todo, ["classification"])
    return len(todo)
