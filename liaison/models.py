"""Work that flows between the district, its streets and communities (上传下达, 督办, 报送).

Notices and tasks go down from a district or street to the areas below it, one copy per
receiving area; reports go up; the study library and training serve every level. Each record
belongs to an area through the one scoping mechanism (`tongzhan.scoping`): a community sees
what was sent to it, a street its own and its communities' copies, the district everything.
"""

from django.db import models  # noqa: F401
from django.utils.translation import gettext_lazy as _  # noqa: F401

# -- Notices (通知公告) ----------------------------------------------------------------------

# -- end of notices --


# -- Tasks and supervision (任务督办) --------------------------------------------------------

# -- end of tasks --


# -- Reports up (信息报送) -------------------------------------------------------------------

# -- end of reports --


# -- The study library (学习资料) and training (统战委员培训) ----------------------------------

# -- end of library and training --
