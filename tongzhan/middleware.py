"""The interface is Chinese unless the user picked another language.

Django's LocaleMiddleware would follow the browser's Accept-Language, and an intranet PC
with an English browser would then show English to a Chinese office. Here only the
language cookie (set by the switcher in the footer) overrides LANGUAGE_CODE.
"""

from django.conf import settings
from django.utils import translation


class LanguageMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response
        self.supported = {code for code, _name in settings.LANGUAGES}

    def __call__(self, request):
        chosen = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME)
        language = chosen if chosen in self.supported else settings.LANGUAGE_CODE
        translation.activate(language)
        request.LANGUAGE_CODE = translation.get_language()
        response = self.get_response(request)
        response.headers.setdefault("Content-Language", language)
        return response
