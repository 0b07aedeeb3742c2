"""Signed-in sessions: served in the person's preferred language unless this browser chose one,
and ended after a time without requests or a time since sign-in."""

import time

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import SESSION_KEY, logout
from django.contrib.auth.views import redirect_to_login
from django.utils import translation
from django.utils.translation import gettext


class UserLanguageMiddleware:
    """Runs after authentication: the language cookie wins, then the profile, then the browser."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = request.user
        if (
            settings.LANGUAGE_COOKIE_NAME not in request.COOKIES
            and user.is_authenticated
            and user.preferred_language
        ):
            translation.activate(user.preferred_language)
            request.LANGUAGE_CODE = translation.get_language()
        return self.get_response(request)


class SessionTimeoutMiddleware:
    """Ends a signed-in browser session after ``SESSION_IDLE_TIMEOUT`` seconds without a request
    and ``SESSION_ABSOLUTE_TIMEOUT`` seconds after sign-in, however active. Runs after the message
    middleware. A page request is sent to sign in with a message; an API request goes on signed
    out, so the API answers its usual 401 (a token in the same request still counts)."""

    SIGNED_IN_AT = "signed_in_at"
    LAST_SEEN = "last_seen"
    # The idle clock is written at most once a minute: a session write per request is not needed
    # for a 30-minute limit.
    REFRESH_AFTER = 60
    API_PREFIX = "/api/"

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if self._signed_in(request.session) and self._expired(request.session):
            logout(request)
            if not request.path_info.startswith(self.API_PREFIX):
                messages.warning(request, gettext("登录已超时，请重新登录。"))
                return redirect_to_login(request.get_full_path())
        response = self.get_response(request)
        if self._signed_in(request.session):
            self._keep_clocks(request.session)
        return response

    @staticmethod
    def _signed_in(session) -> bool:
        # The session, not request.user: a token request has a user but no session to keep.
        return SESSION_KEY in session

    @classmethod
    def start_clocks(cls, session) -> None:
        """Signing in: both clocks start now (``accounts.lockout`` calls this on login)."""
        session[cls.SIGNED_IN_AT] = session[cls.LAST_SEEN] = int(time.time())

    def _expired(self, session) -> bool:
        now = time.time()
        signed_in, last_seen = session.get(self.SIGNED_IN_AT), session.get(self.LAST_SEEN)
        if signed_in is None or last_seen is None:
            return False  # a session from before these limits: stamped below, from now on
        return (
            now - last_seen > settings.SESSION_IDLE_TIMEOUT
            or now - signed_in > settings.SESSION_ABSOLUTE_TIMEOUT
        )

    def _keep_clocks(self, session) -> None:
        now = int(time.time())
        if self.SIGNED_IN_AT not in session:
            # Signed in without the login signal reaching us, or before these limits existed.
            self.start_clocks(session)
        elif now - session.get(self.LAST_SEEN, 0) >= self.REFRESH_AFTER:
            session[self.LAST_SEEN] = now


def start_session_clocks(sender, request, user, **kwargs):
    """``user_logged_in``: every sign-in starts its session's idle and absolute clocks, in the
    session write that ``login()`` makes anyway. (The middleware still starts clocks a session
    lacks.)"""
    if request is not None and hasattr(request, "session"):
        SessionTimeoutMiddleware.start_clocks(request.session)
