"""The Celery application; tasks are discovered in every installed app's tasks.py."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("tshape")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
# Feature packages inside the assessments app keep their own tasks modules.
app.autodiscover_tasks(
    ["assessments.certification", "assessments.gap_reports", "assessments.profiles"]
)
