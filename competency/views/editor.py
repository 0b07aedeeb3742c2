"""The model editor: a draft version's settings, domains, categories, scales, industries, grades
and target grid. Admins only; a version that is no longer a draft is never changed here."""

import copy
from functools import wraps

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.permissions import Capability, capability_required

from .. import services
from ..forms import (
    CategoryForm,
    CategoryRows,
    DomainRows,
    GradeRows,
    IndustryRows,
    NewCategoryForm,
    ScalesForm,
    TargetGridForm,
    VersionSettingsForm,
)
from ..models import Category, Domain, Grade, GradeTarget, Industry, ModelVersion
from ..models import PublishedVersionImmutable as Frozen


def draft_view(view):
    """Admins only; the draft by number. A published or retired version answers with a redirect
    to its page and a message, and nothing changes (also when it was published meanwhile)."""

    @capability_required(Capability.EDIT_MODEL)
    @wraps(view)
    def wrapped(request, number, **kwargs):
        version = get_object_or_404(ModelVersion, number=number)
        try:
            if not version.is_draft:
                raise Frozen()
            return view(request, version, **kwargs)
        except Frozen as exc:
            messages.error(request, exc.messages[0])
            return redirect("competency:version-detail", number=number)
        except services.ModelEditError as exc:
            messages.error(request, str(exc))
            return redirect(request.path)

    return wrapped


def _saved(request, url_name: str, version, **kwargs):
    messages.success(request, _("已保存。"))
    return redirect(url_name, number=version.number, **kwargs)


@draft_view
def version_edit(request, version):
    form = VersionSettingsForm(
        request.POST or None,
        instance=copy.copy(version),
        category_count=version.categories.count(),
    )
    if request.method == "POST" and form.is_valid():
        services.update_version_settings(version=version, values=form.cleaned_data)
        return _saved(request, "competency:version-edit", version)
    return render(
        request,
        "competency/version_edit.html",
        {"version": version, "form": form, "problems": version.completeness_errors()},
    )


# --- list pages ----------------------------------------------------------------------------------

LIST_PAGES = {
    "domains": (gettext_lazy("能力领域"), "competency:domain-edit", services.save_domains),
    "categories": (gettext_lazy("能力类别"), "competency:category-list", services.save_categories),
    "industries": (gettext_lazy("行业"), "competency:industry-edit", services.save_industries),
    "grades": (gettext_lazy("认证等级"), "competency:grade-edit", services.save_grades),
}


def _rows_page(request, version, page: str, formset, hint: str = ""):
    title, url_name, save = LIST_PAGES[page]
    if request.method == "POST" and formset.is_valid():
        save(version=version, rows=formset.rows())
        return _saved(request, url_name, version)
    return render(
        request,
        "competency/rows_edit.html",
        {"version": version, "formset": formset, "title": title, "page": page, "hint": hint},
    )


@draft_view
def domain_edit(request, version):
    nonempty = set(Category.objects.filter(version=version).values_list("domain_id", flat=True))
    formset = DomainRows(
        request.POST or None,
        queryset=Domain.objects.filter(version=version).order_by("order"),
        prefix="domains",
        nonempty=nonempty,
    )
    hint = _("只有没有能力类别的领域才能删除：请先在“能力类别”页把类别移到其他领域或删除。")
    return _rows_page(request, version, "domains", formset, hint)


@draft_view
def category_list(request, version):
    domains = {d.pk: d for d in Domain.objects.filter(version=version).order_by("order")}
    formset = CategoryRows(
        request.POST or None,
        queryset=version.categories_in_order(),
        prefix="categories",
        form_kwargs={"domains": domains},
    )
    hint = _(
        "在这里修改编码、名称、所属领域和顺序（顺序在领域内编号）；删除类别会同时删除它的等级行为"
        "描述和各认证等级对它的目标等级。说明和等级行为描述在类别自己的页面上修改。"
    )
    return _rows_page(request, version, "categories", formset, hint)


@draft_view
def industry_edit(request, version):
    formset = IndustryRows(
        request.POST or None,
        queryset=Industry.objects.filter(version=version).order_by("order"),
        prefix="industries",
    )
    return _rows_page(request, version, "industries", formset)


@draft_view
def grade_edit(request, version):
    formset = GradeRows(
        request.POST or None,
        queryset=Grade.objects.filter(version=version).order_by("order"),
        prefix="grades",
    )
    hint = _(
        "新的认证等级对每个类别的目标等级默认为 1 级；目标等级、行业深度、广度要求和有效期在"
        "“目标画像”页修改。"
    )
    return _rows_page(request, version, "grades", formset, hint)


# --- one category --------------------------------------------------------------------------------


@draft_view
def category_edit(request, version, pk):
    category = get_object_or_404(Category.objects.select_related("domain"), version=version, pk=pk)
    form = CategoryForm(
        request.POST or None,
        version=version,
        category=category,
        initial=CategoryForm.initial_for(category, category.level_descriptions.all()),
    )
    if request.method == "POST" and form.is_valid():
        services.update_category(category=category, values=form.values(), levels=form.levels())
        return _saved(request, "competency:category-edit", version, pk=category.pk)
    return render(
        request,
        "competency/category_form.html",
        {"version": version, "form": form, "category": category},
    )


@draft_view
def category_add(request, version):
    domains = list(Domain.objects.filter(version=version).order_by("order"))
    form = NewCategoryForm(request.POST or None, version=version, domains=domains)
    if request.method == "POST" and form.is_valid():
        category = services.add_category(
            version=version, values=form.values(), levels=form.levels()
        )
        return _saved(request, "competency:category-edit", version, pk=category.pk)
    return render(request, "competency/category_form.html", {"version": version, "form": form})


# --- scales and the target grid ------------------------------------------------------------------


@draft_view
def level_edit(request, version):
    form = ScalesForm(
        request.POST or None,
        levels=list(version.levels.order_by("value")),
        depth_levels=list(version.depth_levels.order_by("value")),
    )
    if request.method == "POST" and form.is_valid():
        services.save_scales(
            version=version, levels=form.levels(), depth_levels=form.depth_levels()
        )
        return _saved(request, "competency:level-edit", version)
    return render(request, "competency/level_edit.html", {"version": version, "form": form})


@draft_view
def target_edit(request, version):
    categories = list(version.categories_in_order())
    targets = {
        (t.grade_id, t.category_id): t.min_level
        for t in GradeTarget.objects.filter(version=version)
    }
    form = TargetGridForm(
        request.POST or None,
        grades=list(Grade.objects.filter(version=version).order_by("order")),
        categories=categories,
        targets=targets,
    )
    if request.method == "POST" and form.is_valid():
        services.save_target_profiles(
            version=version, targets=form.targets(), profiles=form.profiles()
        )
        return _saved(request, "competency:target-edit", version)
    return render(
        request,
        "competency/target_edit.html",
        {"version": version, "form": form, "categories": categories},
    )
