"""factory_boy factories for people and units."""

import factory
from django.contrib.auth.models import Group

from accounts.models import OrgUnit, User

DEMO_PASSWORD = "tshape-demo"


class OrgUnitFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = OrgUnit

    code = factory.Sequence(lambda n: f"U{n:04d}")
    name_zh = factory.Sequence(lambda n: f"单位{n}")
    name_en = factory.Sequence(lambda n: f"Unit {n}")
    kind = OrgUnit.Kind.TEAM


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    display_name = factory.Faker("name", locale="zh_CN")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.com")
    employee_no = factory.Sequence(lambda n: f"E{n:06d}")
    password = factory.django.Password(DEMO_PASSWORD)

    @factory.post_generation
    def roles(self, create, extracted, **kwargs):
        for role in extracted or []:
            self.groups.add(Group.objects.get_or_create(name=role)[0])
