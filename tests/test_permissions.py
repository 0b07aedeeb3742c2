"""Who may see whom, and what each role may do: the helper every later feature uses."""

import pytest
from django.contrib.auth.models import Group

from accounts.models import OrgUnit, User
from accounts.permissions import Capability, Role, can, has_capability, people_scope

from .factories import UserFactory

pytestmark = pytest.mark.django_db


def visible(user):
    return set(User.objects.visible_to(user).values_list("username", flat=True))


def test_role_groups_exist_with_model_permissions():
    names = set(Group.objects.values_list("name", flat=True))
    assert names >= set(Role.values)
    admin_perms = set(
        Group.objects.get(name=Role.ADMIN).permissions.values_list("codename", flat=True)
    )
    assert {"change_category", "change_leveldescription", "view_modelversion"} <= admin_perms
    hr_perms = set(Group.objects.get(name=Role.HR).permissions.values_list("codename", flat=True))
    assert {"view_user", "add_orgunit"} <= hr_perms and "change_category" not in hr_perms
    assert not Group.objects.get(name=Role.MANAGER).permissions.exists()


def test_every_role_sees_exactly_whom_it_should(personas):
    everyone = set(User.objects.values_list("username", flat=True))
    assert visible(personas["hr"]) == everyone
    assert visible(personas["admin"]) == everyone
    assert visible(personas["manager"]) == {"manager"}
    assert visible(personas["outsider"]) == {"outsider"}
    assert visible(personas["supervisor"]) == {"supervisor", "manager"}
    assert visible(personas["outsider_supervisor"]) == {"outsidersup", "outsider"}
    assert visible(personas["city_head"]) == {"cityhead", "supervisor", "manager"}


def test_scope_kinds_are_everyone_subtree_or_self(personas):
    assert people_scope(personas["hr"]).everyone
    assert [u.code for u in people_scope(personas["city_head"]).units] == ["C1"]
    scope = people_scope(personas["manager"])
    assert not scope.everyone and scope.units == ()


def test_visible_units_follow_the_same_scope(personas):
    def units(user):
        return set(OrgUnit.objects.visible_to(user).values_list("code", flat=True))

    assert units(personas["hr"]) == {"P", "C1", "C2", "A", "B"}
    assert units(personas["city_head"]) == {"C1", "A"}
    assert units(personas["supervisor"]) == {"A"}
    assert units(personas["manager"]) == {"A"}
    assert units(personas["outsider"]) == {"B"}


def test_visibility_is_one_query_plus_the_headed_units(personas, django_assert_num_queries):
    city_head = User.objects.get(username="cityhead")
    with django_assert_num_queries(4):  # groups, headed units, their subtrees' unit ids, the people
        list(User.objects.visible_to(city_head))
    with django_assert_num_queries(1):  # the same person object remembers its scope
        list(User.objects.visible_to(city_head))


def test_visibility_follows_the_subtree_not_the_unit(personas, org):
    """A unit created below a headed one after the scope was read is seen by the next request."""
    city_head = User.objects.get(username="cityhead")
    below = OrgUnit.objects.create(code="NEW", name_zh="新部门", parent=org["A"])
    newcomer = UserFactory(username="newcomer", org_unit=below, roles=["manager"])
    assert newcomer in User.objects.visible_to(User.objects.get(pk=city_head.pk))
    assert newcomer not in User.objects.visible_to(personas["outsider_supervisor"])


def test_inactive_and_anonymous_users_see_nobody(personas):
    from django.contrib.auth.models import AnonymousUser

    sleeper = personas["hr"]
    sleeper.is_active = False
    assert visible(sleeper) == set()
    assert not User.objects.visible_to(AnonymousUser()).exists()


def test_capabilities_per_role(personas, org):
    assert has_capability(personas["admin"], Capability.EDIT_MODEL)
    assert not has_capability(personas["hr"], Capability.EDIT_MODEL)
    assert has_capability(personas["hr"], Capability.IMPORT_ORG)
    assert not has_capability(personas["supervisor"], Capability.IMPORT_ORG)
    assert has_capability(personas["manager"], Capability.SELF_ASSESS)
    assert not has_capability(personas["manager"], Capability.REVIEW)
    # "may this user do X over this unit": only inside the headed subtree.
    assert can(personas["supervisor"], Capability.REVIEW, org["A"])
    assert not can(personas["supervisor"], Capability.REVIEW, org["B"])
    assert not can(personas["supervisor"], Capability.REVIEW, org["C1"])
    assert can(personas["city_head"], Capability.REVIEW, org["A"])
    assert can(personas["hr"], Capability.MANAGE_CYCLES, org["B"])
    assert not can(personas["manager"], Capability.REVIEW, org["A"])


def test_superuser_holds_every_role(org):
    root = UserFactory(is_superuser=True)
    assert has_capability(root, Capability.EDIT_MODEL) and people_scope(root).everyone
