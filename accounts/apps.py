from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    """People, the organisation tree, roles and the one scoping idiom."""

    name = "accounts"
    verbose_name = _("人员与组织")

    def ready(self):
        from django.db.models.signals import post_migrate

        from .permissions import ensure_role_groups

        post_migrate.connect(ensure_role_groups, sender=self)
