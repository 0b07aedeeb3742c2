"""The Celery application; tasks are discovered in every installed app's tasks.py."""

import os

from celery import Celery
from celery.signals import before_task_publish, task_postrun, task_prerun

from .logging import add_request_id_header, bind_task_request_id, unbind_task_request_id

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("tshape")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
# Feature packages inside the assessments app keep their own tasks modules.
app.autodiscover_tasks(
    ["assessments.certification", "assessments.gap_reports", "assessments.profiles"]
)

# A task's log lines carry the id of the request that queued it (config/logging.py).


@app.on_after_configure.connect
def _memory_broker_when_eager(sender, **kwargs):
    """Without a broker every task runs in the calling process (``CELERY_TASK_ALWAYS_EAGER``), but
    Celery still takes a producer for an eager call, and kombu warns about the empty broker URL
    each time: the in-memory transport answers instead, and nothing is ever sent to it."""
    if not sender.conf.broker_url and sender.conf.task_always_eager:
        sender.conf.broker_url = "memory://localhost/"


before_task_publish.connect(add_request_id_header, weak=False)
task_prerun.connect(bind_task_request_id, weak=False)
task_postrun.connect(unbind_task_request_id, weak=False)
