from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TongzhanConfig(AppConfig):
    name = "tongzhan"
    verbose_name = _("Areas, accounts and audit")

    def ready(self):
        from . import signals  # noqa: F401  (login/logout audit receivers)
