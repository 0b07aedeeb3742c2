"""The organisation tree: materialised paths, subtree queries, moves, supervisors."""

import pytest
from django.core.exceptions import ValidationError

from accounts.models import OrgUnit, User

from .factories import OrgUnitFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_paths_and_depths_follow_the_tree(org):
    assert org["P"].depth == 0 and org["C1"].depth == 1 and org["A"].depth == 2
    assert org["A"].path == f"/{org['P'].pk}/{org['C1'].pk}/{org['A'].pk}/"
    assert org["A"].is_within(org["C1"]) and not org["A"].is_within(org["C2"])
    assert list(org["A"].ancestors()) == [org["P"], org["C1"]]


def test_subtree_query_is_one_query_whatever_the_depth(org, django_assert_num_queries):
    deep = org["A"]
    for i in range(6):
        deep = OrgUnitFactory(code=f"deep{i}", parent=deep)
    with django_assert_num_queries(1):
        codes = set(OrgUnit.objects.subtree_of(org["C1"]).values_list("code", flat=True))
    assert codes == {"C1", "A"} | {f"deep{i}" for i in range(6)}
    UserFactory(org_unit=deep)
    UserFactory(org_unit=org["B"])
    with django_assert_num_queries(1):
        people = list(User.objects.in_subtree(org["C1"]))
    assert [p.org_unit for p in people] == [deep]


def test_subtree_prefix_does_not_leak_into_siblings_with_similar_ids(org):
    # /1/ must not match /10/ or /11/: the separator closes every id.
    units = [OrgUnitFactory(code=f"root{i}") for i in range(12)]
    first = units[0]
    others = OrgUnit.objects.subtree_of(first).exclude(pk=first.pk)
    assert not others.exists()


def test_moving_a_unit_moves_its_subtree_in_one_update(org, django_assert_max_num_queries):
    child = OrgUnitFactory(code="A1", parent=org["A"])
    grandchild = OrgUnitFactory(code="A11", parent=child)
    team_a = OrgUnit.objects.get(code="A")
    team_a.parent = org["C2"]
    with django_assert_max_num_queries(6):
        team_a.save()
    grandchild.refresh_from_db()
    assert (
        grandchild.path == f"/{org['P'].pk}/{org['C2'].pk}/{team_a.pk}/{child.pk}/{grandchild.pk}/"
    )
    assert grandchild.depth == 4
    assert set(OrgUnit.objects.subtree_of(org["C2"]).values_list("code", flat=True)) == {
        "C2",
        "B",
        "A",
        "A1",
        "A11",
    }


def test_a_unit_cannot_move_below_itself(org):
    child = OrgUnitFactory(code="A1", parent=org["A"])
    team_a = OrgUnit.objects.get(code="A")
    team_a.parent = child
    with pytest.raises(ValidationError):
        team_a.save()
    team_a.refresh_from_db()
    assert team_a.parent == org["C1"]


def test_supervisor_is_a_head_of_the_unit_and_nobody_supervises_themselves(personas, org):
    manager, supervisor, city_head = (
        personas["manager"],
        personas["supervisor"],
        personas["city_head"],
    )
    assert list(manager.supervisors()) == [supervisor]
    # A head is supervised by a head of the parent unit, never by themself.
    assert list(supervisor.supervisors()) == [city_head]
    assert manager.is_supervised_by(supervisor) and not supervisor.is_supervised_by(supervisor)
    # A co-head of the same unit is a peer, not a supervisor.
    co_head = UserFactory(org_unit=org["A"])
    org["A"].heads.add(co_head)
    assert list(supervisor.supervisors()) == [city_head]
    assert set(manager.supervisors()) == {supervisor, co_head}


def test_a_unit_without_head_passes_supervision_upwards(org, city_head):
    orphan = UserFactory(org_unit=org["A"])  # team A has no head in this test
    assert list(orphan.supervisors()) == [city_head]
    top = UserFactory(org_unit=org["P"])
    assert not top.supervisors().exists()
    assert not UserFactory(org_unit=None).supervisors().exists()
