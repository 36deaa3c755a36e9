from django.urls import path  # noqa: F401

from . import views  # noqa: F401

app_name = "liaison"
urlpatterns = []

# -- Notices (通知公告) ----------------------------------------------------------------------
urlpatterns += []
# -- end of notices --


# -- Tasks and supervision (任务督办) --------------------------------------------------------
urlpatterns += []
# -- end of tasks --


# -- Reports up (信息报送) -------------------------------------------------------------------
urlpatterns += []
# -- end of reports --


# -- The study library (学习资料) and training (统战委员培训) ----------------------------------
urlpatterns += []
# -- end of library and training --
