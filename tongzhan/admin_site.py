"""The Django admin's site: for superusers only.

Everything an administrator does every day has the application's own pages, in its look and
within the administrator's area (/manage/); the admin stays for what only a superuser does
(issue 13). A module of its own: `tongzhan.apps.AdminConfig` names this class, which Django
imports the first time `admin.site` is used, while `tongzhan.admin` is still registering.
"""

from django.contrib import admin


class SuperuserAdminSite(admin.AdminSite):
    def has_permission(self, request):
        """Anyone else is sent to the admin's login page, which says they may not enter."""
        return request.user.is_active and request.user.is_superuser
