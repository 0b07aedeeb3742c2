from django.urls import path

from . import views

app_name = "profiles"

urlpatterns = [
    path("", views.profile, name="mine"),
    path("people/<int:person_id>/", views.profile, name="person"),
    path("goals/new/", views.goal_add, name="goal-add"),
    path("goals/<int:pk>/edit/", views.goal_edit, name="goal-edit"),
    path("goals/<int:pk>/comments/", views.goal_comment, name="goal-comment"),
    path("team/", views.team_dashboard, name="team"),
]
