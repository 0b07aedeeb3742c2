"""Sign-in lockout, kept by django-axes: ``AXES_FAILURE_LIMIT`` failed sign-ins for one username
from one IP address lock that pair for ``AXES_COOLOFF_TIME``, on the login page and on the API
token endpoint alike. Unknown usernames are counted and locked the same way, so neither the
failure answer nor the lockout answer tells whether an account exists.

Unlock: ``manage.py axes_reset_username <username>`` (or the admin's access-attempt list).
"""

import math
from datetime import timedelta

from axes.backends import AxesStandaloneBackend
from axes.helpers import get_cool_off
from axes.models import AccessAttempt
from django.contrib.auth.forms import AuthenticationForm
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import ngettext


class LockoutBackend(AxesStandaloneBackend):
    """First authentication backend: refuses every sign-in of a locked-out username and address,
    even with the right password. A sign-in without a request has no address to count against
    (the shell, a test client's ``login()``): it is left to the next backend. Every sign-in that
    comes over the network passes its request (the login page, the token view)."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        if request is None:
            return None
        return super().authenticate(request, username=username, password=password, **kwargs)


def is_locked_out(request) -> bool:
    """Whether the last ``authenticate()`` with this request was refused or ended in a lockout."""
    return bool(getattr(request, "axes_locked_out", False))


def time_left(request, username: str | None) -> timedelta:
    """How long the lockout of this username and address still runs (the whole period when the
    record is gone, e.g. just unlocked between the check and the answer)."""
    cool_off = get_cool_off(request) or timedelta(0)
    last = (
        AccessAttempt.objects.filter(
            username=username, ip_address=getattr(request, "axes_ip_address", None)
        )
        .order_by("-attempt_time")
        .values_list("attempt_time", flat=True)
        .first()
    )
    if last is None:
        return cool_off
    return max(last + cool_off - timezone.now(), timedelta(seconds=1))


def lockout_message(left: timedelta) -> str:
    """The lockout answer: the same words for any username, existing or not."""
    minutes = max(1, math.ceil(left.total_seconds() / 60))
    return ngettext(
        "登录失败次数过多，已暂时锁定。请在 %(minutes)d 分钟后再试，或联系人力资源部门或系统管理员解锁。",
        "登录失败次数过多，已暂时锁定。请在 %(minutes)d 分钟后再试，或联系人力资源部门或系统管理员解锁。",
        minutes,
    ) % {"minutes": minutes}


def lockout_page(request, original_response=None, credentials=None):
    """``AXES_LOCKOUT_CALLABLE``: the sign-in page again, with the lockout message (429)."""
    username = (credentials or {}).get("username") or ""
    context = {
        "form": AuthenticationForm(request, initial={"username": username}),
        "next": request.POST.get("next", ""),
        "lockout_message": lockout_message(time_left(request, username)),
    }
    return render(request, "registration/login.html", context, status=429)
