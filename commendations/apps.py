from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CommendationsConfig(AppConfig):
    name = "commendations"
    verbose_name = _("Commendations")

    def ready(self):
        # A member's page shows her commendations: the registry names no app above it.
        from members.views import member_section_register

        from .views import member_commendations

        member_section_register(member_commendations)
