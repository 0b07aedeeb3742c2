"""Writing a checked plan: units parents-first, then people, their roles and headships."""

from django.contrib.auth.models import Group

from ..models import OrgUnit, User
from .checking import UNCHANGED, PersonChange, Plan, UnitChange


def write_plan(plan: Plan) -> None:
    """Write a checked plan (inside the caller's transaction): units parents-first, then people."""
    for change in plan.units:
        if change.action != UNCHANGED:
            _save_unit(change)
    codes = {c.unit_code for c in plan.people} | {c.head_of for c in plan.people}
    units = OrgUnit.objects.in_bulk([code for code in codes if code], field_name="code")
    roles = {role for change in plan.people for role in change.roles}
    groups = {role: Group.objects.get_or_create(name=role)[0] for role in roles}
    for change in plan.people:
        _save_person(change, units, groups)


def _save_unit(change: UnitChange) -> None:
    # Read afresh: moving an ancestor earlier in this run rewrote the paths below it.
    unit = OrgUnit.objects.filter(code=change.code).first() or OrgUnit(code=change.code)
    for name, value in change.fields.items():
        if name == "parent_code":
            unit.parent = OrgUnit.objects.get(code=value) if value else None
        else:
            setattr(unit, name, value)
    unit.save()


def _save_person(change: PersonChange, units: dict[str, OrgUnit], groups: dict[str, Group]):
    person = change.person or User(employee_no=change.employee_no)
    for name, value in change.fields.items():
        setattr(person, name, value)
    update_fields = list(change.fields)
    if change.unit_code:
        person.org_unit = units[change.unit_code]
        update_fields.append("org_unit")
    if change.person is None:
        person.set_unusable_password()
        person.save()
    elif update_fields:
        person.save(update_fields=update_fields)
    if change.roles:
        person.groups.add(*(groups[role] for role in change.roles))
    if change.head_of:
        units[change.head_of].heads.add(person)
