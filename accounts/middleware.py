"""Serve a signed-in person in their preferred language unless this browser chose one."""

from django.conf import settings
from django.utils import translation


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
