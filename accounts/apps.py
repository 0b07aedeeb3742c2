from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    """People, the organisation tree, roles and the one scoping idiom."""

    name = "accounts"
    verbose_name = _("人员与组织")

    def ready(self):
        from django.contrib.auth.signals import user_logged_in
        from django.db.models.signals import post_migrate

        from . import audit_hooks
        from .middleware import start_session_clocks
        from .permissions import ensure_role_groups

        # Not limited to this app's signal: the groups need the permissions of apps migrated
        # after this one, so the last post_migrate of a run is the one that completes them.
        post_migrate.connect(ensure_role_groups, dispatch_uid="tshape-role-groups")
        audit_hooks.connect()
        user_logged_in.connect(start_session_clocks, dispatch_uid="tshape-session-clocks")
