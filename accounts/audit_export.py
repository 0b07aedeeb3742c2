"""The audit log under the list's filters as CSV or XLSX (the certification exports' writer).

The shared writer neutralises text a spreadsheet would run as a formula (docs/decisions.md #39):
audit rows carry typed usernames, paths and browser strings, which anyone can choose.
"""

from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from assessments.certification.exports import RowExporter

FORMATS = ("csv", "xlsx")


class AuditLogExporter(RowExporter):
    """One row per audit event, newest first, read in chunks (never the whole log in memory)."""

    name = "audit-log"
    sheet_title = _("审计日志")
    columns = [
        (_("时间"), 20),
        (_("事件"), 14),
        (_("操作人账号"), 16),
        (_("对象类型"), 14),
        (_("对象编号"), 10),
        (_("对象"), 30),
        (_("说明"), 40),
        (_("IP 地址"), 16),
        (_("浏览器"), 30),
        (_("请求编号"), 34),
    ]

    def __init__(self, events):
        self.events = events

    def rows(self):
        for e in self.events.iterator(chunk_size=2000):
            yield [
                timezone.localtime(e.at).strftime("%Y-%m-%d %H:%M:%S"),
                e.get_action_display(),
                e.actor_label,
                e.target_type_label,
                e.target_id,
                e.target_label,
                e.description,
                e.ip_address or "",
                e.user_agent,
                e.request_id,
            ]
