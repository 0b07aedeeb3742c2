"""Signal receivers that feed the audit log: sign-in, failed sign-in, sign-out, every decision.

They listen to django.contrib.auth's signals, so they work with whatever view signs people in
(the login page, the admin, the API token view, a lockout backend in front of them).
"""

from django.apps import apps
from django.contrib.auth import get_user_model
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.db.models.signals import post_save

from .audit import AuditEvent, DecisionRecord, record_audit_event, record_decisions


def _signed_in(sender, request, user, **kwargs):
    record_audit_event(action=AuditEvent.Action.SIGN_IN, request=request, actor=user)


def _sign_in_failed(sender, credentials, request=None, **kwargs):
    """The same record whether or not the name exists: only the name typed, never the password."""
    typed = str(credentials.get(get_user_model().USERNAME_FIELD) or "")
    record_audit_event(
        action=AuditEvent.Action.SIGN_IN_FAILED, request=request, actor=None, actor_label=typed
    )


def _signed_out(sender, request, user, **kwargs):
    if user is not None:
        record_audit_event(action=AuditEvent.Action.SIGN_OUT, request=request, actor=user)


def _decision_saved(sender, instance, created, raw=False, **kwargs):
    if created and not raw:
        record_decisions([instance])


def connect() -> None:
    """Connect the receivers (called once from ``AccountsConfig.ready``)."""
    user_logged_in.connect(_signed_in, dispatch_uid="audit-sign-in")
    user_login_failed.connect(_sign_in_failed, dispatch_uid="audit-sign-in-failed")
    user_logged_out.connect(_signed_out, dispatch_uid="audit-sign-out")
    for model in apps.get_models():
        if issubclass(model, DecisionRecord):
            post_save.connect(
                _decision_saved, sender=model, dispatch_uid=f"audit-{model._meta.label_lower}"
            )
