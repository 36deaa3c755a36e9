"""Time the to-do page and a task's supervision table on PostgreSQL, a district of 200 communities.

Run from the repository root:

    .venv/bin/python benchmarks/liaison_pages.py [--members 1000000] [--requests 200]

Its own database (`tongzhan_liaison`), seeded by `seed_demo` like the others. Then the demo
district 迎泽区 is grown to 200 current communities (new streets 140106006… with their
communities, through `areas_load` as the demo loads its areas; the members stay in the demo's
communities), each community without an account gets a community worker, and through the
liaison services the district sends a task to all 200 communities (copies in every state,
overdue ones too), a few dozen notices go out, communities report up and needs are referred
up. Issue 16 asks for p95 under 150 ms for these pages. See benchmarks/README.md.
"""

import datetime
import random
import sys
import time

import common  # noqa: E402  (benchmarks/ is the script's folder)

DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/tongzhan_liaison"
GOAL_P95_MS = 150
USERS = ["quwei", "jiedao", "shequ"]  # district 迎泽区, street 柳巷街道, community 桥东一社区
DISTRICT_CODE = "140106"
COMMUNITIES = 200
COMMUNITIES_PER_NEW_STREET = 20
# The names of the streets added (迎泽区's own streets beyond the demo's five).
NEW_STREETS = ["桥东街道", "郝庄镇", "东华街道", "永安街道", "南门街道", "双塔街道", "五龙口街道",
               "杨家峪街道", "并州街道", "新村街道", "城南街道", "龙城街道"]  # fmt: skip
SEED = 2026
# The big task, sent once; its title is the marker that the liaison state exists.
BIG_TASK = "2026年度统战对象信息核查（全区）"
# Its 200 copies: how many end in each state (in the order of a shuffled list of areas).
BIG_TASK_STATES = [("issued", 15), ("received", 15), ("in_progress", 25), ("returned", 10),
                   ("done", 110), ("approved", 25)]  # fmt: skip
NOTICES = 30
REPORTS_TO_DISTRICT_EVERY = 3  # one community in three also reports to the district
NEEDS_REFERRED_PER_COMMUNITY = 3


def _grow_district() -> int:
    """Add streets and communities until 迎泽区 has COMMUNITIES current ones; how many were
    added. Through `areas_load`, the service that loads the demo's areas file."""
    from tongzhan.models import Area
    from tongzhan.services import AREA_COLUMNS, areas_load

    district = Area.objects.get(code=DISTRICT_CODE)
    have = Area.objects.current().communities().within(district).count()
    if have >= COMMUNITIES:
        return 0
    codes = set(Area.objects.filter(code__startswith=DISTRICT_CODE).values_list("code", flat=True))
    rows, missing = [], COMMUNITIES - have
    for number, street_name in enumerate(NEW_STREETS, start=6):
        street = f"{DISTRICT_CODE}{number:03d}"
        if street not in codes:
            rows.append({"code": street, "name": street_name, "parent_code": DISTRICT_CODE,
                         "level": "street"})  # fmt: skip
        for index in range(1, COMMUNITIES_PER_NEW_STREET + 1):
            if not missing:
                break
            code = f"{street}{index:03d}"
            if code in codes:
                continue
            name = f"{street_name.removesuffix('街道').removesuffix('镇')}{index}号社区"
            rows.append({"code": code, "name": name, "parent_code": street,
                         "level": "community"})  # fmt: skip
            missing -= 1
        if not missing:
            break
    areas_load(
        rows=[
            (number, {**dict.fromkeys(AREA_COLUMNS, ""), **values})
            for number, values in enumerate(rows, start=2)
        ]
    )
    return COMMUNITIES - have - missing


def _community_workers() -> dict:
    """{community area id: a community worker}, creating `bench<code>` for those without one
    (no usable password: the benchmark logs nobody in as them)."""
    from tongzhan.models import Area, User
    from tongzhan.services import user_create

    communities = list(
        Area.objects.current().communities().filter(code__startswith=DISTRICT_CODE).order_by("code")
    )
    workers = {}
    for user in User.objects.filter(role=User.Role.COMMUNITY, is_active=True).order_by("pk"):
        workers.setdefault(user.area_id, user)
    for community in communities:
        if community.pk not in workers:
            workers[community.pk] = user_create(
                actor=None,
                username=f"bench{community.code}",
                password=None,
                role=User.Role.COMMUNITY,
                area=community,
                last_name="基准",
                first_name=community.name[:10],
            )
    return {community.pk: workers[community.pk] for community in communities}


def _liaison_state(workers: dict) -> None:
    """What a district's work between the levels leaves behind, written by the services."""
    from activities.models import Need
    from activities.services import need_refer
    from liaison import services
    from liaison.models import Notice, NoticeCopy, Report, Task, TaskCopy
    from tongzhan.models import Area, User

    rng = random.Random(SEED)
    today = datetime.date.today()
    quwei = User.objects.get(username="quwei")
    jiedao = User.objects.get(username="jiedao")
    district = quwei.area
    communities = list(Area.objects.current().communities().within(district).order_by("code"))

    # The big task: every community, copies in every state, its deadline moved back after.
    big = services.task_send(
        actor=quwei,
        data={"title": BIG_TASK, "body": "核对辖区统战对象信息，更新变动情况，按时上报。",
              "deadline": today + datetime.timedelta(days=10)},
        recipients=communities,
    )  # fmt: skip
    copies = list(TaskCopy.objects.filter(task=big).select_related("task", "area"))
    rng.shuffle(copies)
    states = [state for state, count in BIG_TASK_STATES for _ in range(count)]
    for copy, state in zip(copies, states, strict=False):
        worker = workers[copy.area_id]
        if state == "issued":
            continue
        copy = services.taskcopy_receive(actor=worker, copy=copy)
        if state == "received":
            continue
        copy = services.taskcopy_start(actor=worker, copy=copy)
        if state == "in_progress":
            continue
        copy = services.taskcopy_report(
            actor=worker, copy=copy, report=f"{copy.area.name}已核查全部统战对象信息，更新变动。"
        )
        if state == "returned":
            services.taskcopy_return(actor=quwei, copy=copy, reason="变动情况未附说明，请补充。")
        elif state == "approved":
            services.taskcopy_approve(actor=quwei, copy=copy)
    # Overdue: the deadline passed three days ago for every copy still open.
    Task.objects.filter(pk=big.pk).update(deadline=today - datetime.timedelta(days=3))

    # A second district task, due later, received by half the communities; a street's task.
    later = services.task_send(
        actor=quwei,
        data={"title": "中秋节走访慰问党外代表人士", "body": "走访慰问并报送走访情况。",
              "deadline": today + datetime.timedelta(days=20)},
        recipients=communities,
    )  # fmt: skip
    for copy in TaskCopy.objects.filter(task=later).order_by("area__code")[::2]:
        services.taskcopy_receive(actor=workers[copy.area_id], copy=copy)
    street_communities = list(Area.objects.current().communities().within(jiedao.area))
    services.task_send(
        actor=jiedao,
        data={"title": "更新社区统战工作台账", "body": "按街道模板整理台账。",
              "deadline": today + datetime.timedelta(days=7)},
        recipients=street_communities,
    )  # fmt: skip

    # Notices to the whole district, the older ones read by more communities; some ask a reply.
    for number in range(NOTICES):
        notice = services.notice_send(
            actor=quwei,
            data={"title": f"关于做好统战工作的通知（第{number + 1}号）",
                  "body": "请各社区认真落实。",
                  "reply_by": today + datetime.timedelta(days=15) if number % 5 == 0 else None},
            area=district,
        )  # fmt: skip
        share = (NOTICES - number) / NOTICES
        for copy in NoticeCopy.objects.filter(notice=notice):
            if rng.random() < share:
                services.notice_read(actor=workers[copy.area_id], copy=copy)
    for number in range(3):
        services.notice_send(
            actor=jiedao,
            data={"title": f"柳巷街道工作提示（{number + 1}）", "body": "请按时完成。"},
            area=jiedao.area,
        )

    # Reports: every community to its street, one in three also to the district; the street
    # 柳巷 decides some, the district some.
    kinds = [kind for kind, _label in Report.Kind.choices]
    for index, community in enumerate(communities):
        worker = workers[community.pk]
        services.report_submit(
            actor=worker,
            data={"kind": kinds[index % len(kinds)], "title": f"{community.name}工作动态",
                  "body": "本月开展统战活动情况。"},
        )  # fmt: skip
        if index % REPORTS_TO_DISTRICT_EVERY == 0:
            services.report_submit(
                actor=worker,
                data={"kind": "public_opinion", "title": f"{community.name}社情民意",
                      "body": "群众反映的问题和建议。"},
                to_area=district,
            )  # fmt: skip
    for report in Report.objects.filter(to_area=district).order_by("pk")[::4]:
        services.report_decide(actor=quwei, report=report, decision="adopted")
    services.report_submit(
        actor=jiedao,
        data={"kind": "good_practice", "title": "柳巷街道统战工作经验", "body": "经验做法。"},
    )  # fmt: skip

    # Needs referred up: a few open ones of each community with members, to its street and
    # to the district by turns.
    referred = 0
    for community in communities:
        open_needs = Need.objects.filter(
            community=community, held_by__isnull=True, status__in=Need.OPEN
        ).order_by("pk")[:NEEDS_REFERRED_PER_COMMUNITY]
        for need in open_needs:
            to_area = community.parent if referred % 2 == 0 else district
            need_refer(
                actor=workers[community.pk], need=need, to_area=to_area,
                note="社区无法解决，请协调。",
            )  # fmt: skip
            referred += 1
    print(
        f"Liaison state: tasks {Task.objects.count()}, copies {TaskCopy.objects.count()}, "
        f"notices {Notice.objects.count()} ({NoticeCopy.objects.count()} copies), "
        f"reports {Report.objects.count()}, needs referred {referred}."
    )


def prepare() -> None:
    """Grow the district, give communities workers and write the liaison state, each only
    when missing (the script is re-run on a kept database)."""
    from django.db import connection

    from liaison.models import Task

    started = time.monotonic()
    added = _grow_district()
    workers = _community_workers()
    print(f"{len(workers)} communities in 迎泽区 ({added} added now), each with a worker.")
    if Task.objects.filter(title=BIG_TASK, area__code=DISTRICT_CODE).exists():
        print("Liaison state present (the district's big task exists): reused.")
    else:
        _liaison_state(workers)
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    print(f"Prepared in {time.monotonic() - started:.1f} s.")


def cases() -> list[tuple[str, str, str]]:
    from liaison.models import Task

    prepare()
    task = Task.objects.get(title=BIG_TASK, area__code=DISTRICT_CODE)
    return [
        ("quwei", "to-do, district", "/liaison/todo/"),
        ("jiedao", "to-do, street", "/liaison/todo/"),
        ("shequ", "to-do, community", "/liaison/todo/"),
        ("quwei", "supervision table, 200 rows", f"/liaison/tasks/{task.pk}/"),
        ("quwei", "supervision table ?sort=days", f"/liaison/tasks/{task.pk}/?sort=days"),
        ("quwei", "supervision list (all tasks)", "/liaison/tasks/supervision/"),
    ]


if __name__ == "__main__":
    if "--members" not in sys.argv:
        sys.argv[1:1] = ["--members", "1000000"]
    sys.exit(
        common.page_benchmark(
            description=__doc__.split("\n\n")[0],
            database_url=DEFAULT_DATABASE_URL,
            users=USERS,
            make_cases=cases,
            goal_ms=GOAL_P95_MS,
        )
    )
