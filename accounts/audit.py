"""Append-only records: decisions and audit events are written once and never changed or deleted.

``DecisionRecord`` is the base of every workflow decision (assessment steps, certification,
calibration, model versions, goal comments). ``AuditEvent`` is the audit log: sign-ins, refused
access, decisions, imports, exports and personal-data actions — who, what, when, from where.
``record_audit_event`` is the one way to write an event; ``record_decisions`` turns decision
records into events and is called for every save and bulk insert of one (``audit_hooks``).
"""

import ipaddress
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime, time, timedelta

from django.apps import apps
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connection, models
from django.db.models import Q
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _

from .permissions import Capability, has_capability

USER_AGENT_MAX = 300
LABEL_MAX = 255
SUMMARY_MAX = 500
# The transaction-local PostgreSQL setting that lets the trigger accept the pseudonymising UPDATE.
PSEUDONYMISE_FLAG = "tshape.audit_pseudonymise"


class AuditRecordImmutable(ValidationError):
    def __init__(self):
        super().__init__(_("审计记录一经写入不可修改或删除。"))


class AppendOnlyQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise AuditRecordImmutable()

    def delete(self):
        raise AuditRecordImmutable()

    def bulk_update(self, objs, *args, **kwargs):
        raise AuditRecordImmutable()

    def bulk_create(self, objs, *args, **kwargs):
        created = super().bulk_create(objs, *args, **kwargs)
        # post_save does not fire for bulk inserts: decisions made in bulk are audited here.
        if issubclass(self.model, DecisionRecord):
            record_decisions(created)
        return created


class DecisionRecord(models.Model):
    """Base of every decision record: who (``actor``), when (``at``), why (``note``), and details.

    Subclasses add what the decision is about and an ``action``.
    """

    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("操作人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    at = models.DateTimeField(_("时间"), default=timezone.now)
    note = models.TextField(_("说明 / 原因"), blank=True)
    details = models.JSONField(_("详情"), default=dict, blank=True)

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        abstract = True
        ordering = ["at", "pk"]

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise AuditRecordImmutable()
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AuditRecordImmutable()


# --- the audit log --------------------------------------------------------------------------------


class AuditEventQuerySet(AppendOnlyQuerySet):
    def visible_to(self, user):
        """The whole log for holders of ``VIEW_AUDIT`` (HR, admin); nothing for anyone else."""
        return self.all() if has_capability(user, Capability.VIEW_AUDIT) else self.none()

    def matching(self, *, action="", actor="", date_from=None, date_to=None, q=""):
        """The list's filters: action, actor's username, local dates (both inclusive), text."""
        events = self.filter(action=action) if action else self
        if actor:
            events = events.filter(actor_label__icontains=actor)
        if date_from:
            events = events.filter(at__gte=_day_start(date_from))
        if date_to:
            events = events.filter(at__lt=_day_start(date_to + timedelta(days=1)))
        if q:
            events = events.filter(
                Q(actor_label__icontains=q)
                | Q(target_label__icontains=q)
                | Q(summary__icontains=q)
                | Q(request_id=q)
            )
        return events

    def concerning(self, person):
        """Events ``person`` did, that are about them, or failed sign-ins with their username."""
        typed = Q(actor__isnull=True, actor_label__iexact=person.get_username())
        return self.filter(Q(actor=person) | Q(subject=person) | typed)


def _day_start(day):
    return timezone.make_aware(datetime.combine(day, time.min))


class AuditEvent(models.Model):
    """One audited event — who, what, when, from where — written once and never changed.

    Erasing a person may only replace their identity in ``actor_label``, ``target_label`` and
    ``summary`` (``pseudonymise_audit_events``); on PostgreSQL a trigger refuses any other UPDATE
    and every DELETE, whatever path issues it.
    """

    class Action(models.TextChoices):
        SIGN_IN = "sign_in", _("登录")
        SIGN_IN_FAILED = "sign_in_failed", _("登录失败")
        SIGN_OUT = "sign_out", _("退出登录")
        ACCESS_DENIED = "access_denied", _("拒绝访问")
        DECISION = "decision", _("流程决定")
        MODEL_PUBLISHED = "model_published", _("发布能力模型")
        IMPORT = "import", _("导入")
        EXPORT = "export", _("导出")
        PERSONAL_DATA_EXPORTED = "personal_data_exported", _("导出个人数据")
        PERSON_DEACTIVATED = "person_deactivated", _("标记为已离职")
        PERSON_ERASED = "person_erased", _("删除个人身份")

    at = models.DateTimeField(_("时间"), default=timezone.now, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("操作人"),
        null=True,
        blank=True,
        # Never deleted with a person: people are erased (pseudonymised), not deleted.
        on_delete=models.PROTECT,
        related_name="+",
    )
    # The username at the time (for a failed sign-in: the name that was typed).
    actor_label = models.CharField(_("操作人账号"), max_length=150, blank=True)
    action = models.CharField(_("事件"), max_length=32, choices=Action.choices, db_index=True)
    target_type = models.CharField(_("对象类型"), max_length=100, blank=True)
    target_id = models.CharField(_("对象编号"), max_length=64, blank=True)
    target_label = models.CharField(_("对象"), max_length=LABEL_MAX, blank=True)
    # The person the event is about (an assessment's person, an erased person…), for export/erase.
    subject = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("涉及人员"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    summary = models.CharField(_("摘要"), max_length=SUMMARY_MAX, blank=True)
    ip_address = models.GenericIPAddressField(_("IP 地址"), null=True, blank=True)
    user_agent = models.CharField(_("浏览器"), max_length=USER_AGENT_MAX, blank=True)
    request_id = models.CharField(_("请求编号"), max_length=128, blank=True)
    details = models.JSONField(_("详情"), default=dict, blank=True)

    objects = AuditEventQuerySet.as_manager()

    class Meta:
        verbose_name = _("审计事件")
        verbose_name_plural = _("审计事件")
        ordering = ["-at", "-pk"]

    def __str__(self):
        return f"{self.at:%Y-%m-%d %H:%M:%S} {self.actor_label or '-'} {self.get_action_display()}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise AuditRecordImmutable()
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AuditRecordImmutable()

    @property
    def description(self) -> str:
        """What happened, in the reader's language where the event names a decision."""
        record, decision = self.details.get("record"), self.details.get("decision")
        if not record:
            return self.summary
        try:
            model = apps.get_model(record)
        except (LookupError, ValueError):
            return self.summary
        return decision_label(model, decision)

    @property
    def target_type_label(self) -> str:
        """The target's kind in the reader's language (a model's name, or the stored type)."""
        try:
            return str(apps.get_model(self.target_type)._meta.verbose_name)
        except (LookupError, ValueError):
            return self.target_type


# --- where a request came from --------------------------------------------------------------------


@dataclass(frozen=True)
class Origin:
    """Where an audited event came from: client address, browser and request id."""

    ip_address: str | None = None
    user_agent: str = ""
    request_id: str = ""

    @classmethod
    def of(cls, request) -> "Origin":
        return cls(
            ip_address=client_ip(request),
            user_agent=request.META.get("HTTP_USER_AGENT", "")[:USER_AGENT_MAX],
            request_id=getattr(request, "request_id", "") or _current_request_id(),
        )


# Set by ``AuditMiddleware`` for the duration of a request: decisions saved deep inside a service
# know where the request came from without every service passing the request down.
current_origin: ContextVar[Origin | None] = ContextVar("audit_origin", default=None)


def _current_request_id() -> str:
    from config.logging import request_id_var

    value = request_id_var.get()
    return "" if value == "-" else value


def _ambient_origin() -> Origin:
    """The origin of the request being served, or just the request id a task inherited."""
    return current_origin.get() or Origin(request_id=_current_request_id())


def _valid_ip(value: str) -> str | None:
    try:
        return str(ipaddress.ip_address(value.strip()))
    except ValueError:
        return None


def client_ip(request) -> str | None:
    """``REMOTE_ADDR``; behind ``TRUSTED_PROXY_COUNT`` proxies, the address the first of them saw.

    Each proxy appends to X-Forwarded-For, so only its last N entries were written by our
    proxies; anything left of them came from the client and may be forged. Without the setting
    (the default) the header is ignored.
    """
    hops = int(getattr(settings, "TRUSTED_PROXY_COUNT", 0) or 0)
    if hops > 0:
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
        entries = [part.strip() for part in forwarded.split(",") if part.strip()]
        if len(entries) >= hops:
            return _valid_ip(entries[-hops])
    return _valid_ip(request.META.get("REMOTE_ADDR", ""))


# --- writing events -------------------------------------------------------------------------------


def _target_fields(target) -> dict:
    """Type, id, label and the person concerned for a model instance (or nothing)."""
    if target is None:
        return {}
    subject_id = target.pk if target._meta.label == settings.AUTH_USER_MODEL else None
    return {
        "target_type": target._meta.label_lower,
        "target_id": str(target.pk),
        "target_label": str(target)[:LABEL_MAX],
        "subject_id": subject_id or getattr(target, "person_id", None),
    }


def record_audit_event(
    *,
    action: str,
    request=None,
    actor=None,
    actor_label: str | None = None,
    target=None,
    summary: str = "",
    details: dict | None = None,
) -> AuditEvent:
    """Write one event; the actor defaults to the request's signed-in user, the origin to the
    request (or the request being served, or the task's request id)."""
    if actor is None and request is not None:
        user = getattr(request, "user", None)
        actor = user if user is not None and user.is_authenticated else None
    origin = Origin.of(request) if request is not None else _ambient_origin()
    if actor_label is None:
        actor_label = actor.get_username() if actor is not None else ""
    return AuditEvent.objects.create(
        action=action,
        actor=actor,
        actor_label=actor_label[:150],
        summary=summary[:SUMMARY_MAX],
        details=details or {},
        ip_address=origin.ip_address,
        user_agent=origin.user_agent,
        request_id=origin.request_id,
        **_target_fields(target),
    )


def record_download(request, *, summary: str, target=None, details: dict | None = None) -> None:
    """Audit a file handed to the signed-in user (every download view calls this)."""
    record_audit_event(
        request=request,
        action=AuditEvent.Action.EXPORT,
        target=target,
        summary=summary,
        details=details,
    )


# --- decisions → events ---------------------------------------------------------------------------


def _has_person(model) -> bool:
    return any(f.name == "person" and f.many_to_one for f in model._meta.concrete_fields)


def decision_target_field(model):
    """The foreign key naming what a decision is about.

    The first one (besides ``actor``) to a model that belongs to a person — an assessment, an
    application, a goal — else the first one (a model version, a calibration session).
    """
    keys = [f for f in model._meta.concrete_fields if f.many_to_one and f.name != "actor"]
    with_person = [f for f in keys if _has_person(f.related_model)]
    return (with_person or keys or [None])[0]


def _targets(field, ids) -> dict:
    """The decided-on objects by id, with what their names need, in one query."""
    related = field.related_model
    joins = [f.name for f in related._meta.concrete_fields if f.many_to_one and not f.null]
    return related._base_manager.select_related(*joins).in_bulk(list(ids))


def _usernames(records) -> dict:
    actor_field = records[0]._meta.get_field("actor")
    names = {
        r.actor_id: r.actor.get_username() for r in records if actor_field.is_cached(r) and r.actor
    }
    missing = {r.actor_id for r in records if r.actor_id and r.actor_id not in names}
    if missing:
        user_model = actor_field.related_model
        names |= dict(user_model._base_manager.filter(pk__in=missing).values_list("pk", "username"))
    return names


def decision_label(model, decision: str) -> str:
    """What kind of record and which decision, in the active language ("能力评估记录：已提交")."""
    choices = getattr(model, "Action", None)
    label = dict(choices.choices).get(decision) if choices and decision else None
    name = str(model._meta.verbose_name)
    return f"{name}：{label}" if label else name


def _decision_summary(model, decision: str) -> str:
    """The decision in the source language (the list shows it in the reader's, see ``description``)."""
    with translation.override(settings.LANGUAGE_CODE):
        return decision_label(model, decision)


def _decision_event(record, field, targets, names, origin) -> AuditEvent:
    model = type(record)
    decision = str(getattr(record, "action", "") or "")
    published = (
        model._meta.label_lower == "competency.modelversionevent" and decision == "published"
    )
    target = targets.get(getattr(record, field.attname)) if field else None
    return AuditEvent(
        at=record.at,
        actor_id=record.actor_id,
        actor_label=names.get(record.actor_id, ""),
        action=AuditEvent.Action.MODEL_PUBLISHED if published else AuditEvent.Action.DECISION,
        summary=_decision_summary(model, decision),
        details={"record": model._meta.label_lower, "record_id": record.pk, "decision": decision},
        ip_address=origin.ip_address,
        user_agent=origin.user_agent,
        request_id=origin.request_id,
        **_target_fields(target),
    )


DECISION_CHUNK = 2000


def record_decisions(records) -> None:
    """One audit event per decision record (all of one model): three queries per 2,000 records."""
    records = [r for r in records if r.pk is not None]
    for start in range(0, len(records), DECISION_CHUNK):
        _record_decision_chunk(records[start : start + DECISION_CHUNK])


def _record_decision_chunk(records) -> None:
    field = decision_target_field(type(records[0]))
    targets = _targets(field, {getattr(r, field.attname) for r in records}) if field else {}
    origin = _ambient_origin()
    names = _usernames(records)
    AuditEvent.objects.bulk_create(
        [_decision_event(r, field, targets, names, origin) for r in records], batch_size=1000
    )


# --- erasure --------------------------------------------------------------------------------------


def _replaced(column: str, identities: list[str], pseudonym: str) -> tuple[str, list]:
    """SQL replacing each identity (longest first) in ``column`` by the pseudonym."""
    sql, params = column, []
    for identity in sorted(identities, key=len, reverse=True):
        sql = f"REPLACE({sql}, %s, %s)"
        params += [identity, pseudonym]
    return sql, params


def pseudonymise_audit_events(*, person, username: str, identities: list[str], pseudonym: str):
    """Replace a person's identity in the events by or about them; the only UPDATE allowed.

    The actor label of their own events (and of failed sign-ins with their username) becomes the
    pseudonym; every identity string in target labels and summaries is replaced. Runs inside the
    caller's transaction; on PostgreSQL the trigger lets it through only while the flag is set.
    """
    table = AuditEvent._meta.db_table
    target_sql, target_params = _replaced("target_label", identities, pseudonym)
    summary_sql, summary_params = _replaced("summary", identities, pseudonym)
    mine = "actor_id = %s OR (actor_id IS NULL AND LOWER(actor_label) = LOWER(%s))"
    # Only our own table and column names are formatted in; every value is a parameter.
    sql = (
        f"UPDATE {table} SET actor_label = CASE WHEN {mine} THEN %s ELSE actor_label END, "  # noqa: S608
        f"target_label = {target_sql}, summary = {summary_sql} "
        f"WHERE {mine} OR subject_id = %s"
    )
    params = [person.pk, username, pseudonym, *target_params, *summary_params]
    params += [person.pk, username, person.pk]
    with connection.cursor() as cursor:
        _set_flag(cursor, "on")
        cursor.execute(sql, params)
        _set_flag(cursor, "off")


def _set_flag(cursor, value: str) -> None:
    if connection.vendor == "postgresql":
        cursor.execute("SELECT set_config(%s, %s, true)", [PSEUDONYMISE_FLAG, value])
