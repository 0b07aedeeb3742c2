"""The profile demo content: idempotent, resources in both languages, the manager's plan."""

import pytest
from django.urls import reverse

from accounts.models import User
from assessments.demo import seed_demo
from assessments.models import Assessment, DevelopmentGoal, GoalComment, LearningResource
from assessments.profiles.demo import seed_profiles_demo

pytestmark = pytest.mark.django_db


def test_seed_profiles_demo_is_idempotent_and_fills_what_the_pages_show(client):
    seed_demo()  # seeds the profile content too
    assert LearningResource.objects.exists()
    again = seed_profiles_demo()
    assert again == {"resources": 0, "goals": 0, "classified": 0}
    codes = set(LearningResource.objects.values_list("category_code", flat=True))
    assert len(codes) == 12
    for code in codes:
        languages = set(
            LearningResource.objects.filter(category_code=code).values_list("language", flat=True)
        )
        assert languages == {"zh-hans", "en"}, code
    manager = User.objects.get(username="manager")
    assert DevelopmentGoal.objects.filter(person=manager).count() == 3
    assert GoalComment.objects.get().actor.username == "supervisor"
    assert not Assessment.objects.filter(status="completed", classification="").exists()

    client.force_login(manager)
    html = client.get(reverse("profiles:mine")).content.decode()
    assert "radar-data" in html and "IT知识是当前最大的短板" in html
    client.force_login(User.objects.get(username="supervisor"))
    response = client.get(reverse("profiles:team"))
    assert sum(row["n"] for row in response.context["report"].summary["shapes"]) > 0
