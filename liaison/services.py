"""Writes of notices, tasks, reports, the study library and training: each a keyword-only
function that checks the actor's area and rights, writes in one transaction and audits."""

# (label, count(area) -> int, move(source, target) -> None) for each kind of record that
# belongs to an area, registered with tongzhan's area merges by apps.LiaisonConfig.ready.
AREA_MOVERS: list = []

# -- Notices (通知公告) ----------------------------------------------------------------------

# -- end of notices --


# -- Tasks and supervision (任务督办) --------------------------------------------------------

# -- end of tasks --


# -- Reports up (信息报送) -------------------------------------------------------------------

# -- end of reports --


# -- The study library (学习资料) and training (统战委员培训) ----------------------------------

# -- end of library and training --
