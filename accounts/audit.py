"""Append-only records: decisions are written once and never changed or deleted, by any path."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


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
