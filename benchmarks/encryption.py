"""SM4-GCM against Fernet: the cost of the national algorithm, measured in one run.

Run from the repository root:

    .venv/bin/python benchmarks/encryption.py [--rows 100000] [--members 200000] [--requests 60]

Three measures, each with FIELD_ENCRYPTION_ALGORITHM "aes" (Fernet values, HMAC-SHA256
lookup hashes; only the Fernet key configured) and "sm4" (SM4-GCM, HMAC-SM3; only the SM4
key), the keys being those of the settings (the local key file):

1. per value, in this process: --rows ID numbers encrypted, decrypted and hashed;
2. the member list and a member's page through Django's test client with --members members:
   seeded with Fernet and timed, rotated to SM4 by the key rotation (timed too: what an
   upgrade costs) and timed, rotated back to Fernet and timed again (so drift shows);
3. the roster import (roster_import.py's file and import) of --rows rows into emptied member
   tables, in child processes: Fernet, SM4, SM4, Fernet.

DATABASE_URL names the member list's database (default: the local `tongzhan_enc`), seeded up to
--members unless it holds that many already; anything in SM4 there (a database of the page
benchmarks, an interrupted run) is rotated to Fernet first, and the run leaves it in Fernet.
The import empties the member tables of its own database, --import-url (default: the same
name with `_import`), which may be the same database when nothing is to be kept. Both are
created if missing. See benchmarks/README.md.
"""

import argparse
import datetime
import functools
import gc
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import common  # noqa: E402  (benchmarks/ is the script's folder)
import roster_import  # noqa: E402

DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/tongzhan_enc"
# Algorithm, and whether the SM4 key and the Fernet key are configured. The measured
# configurations have one key; the rotations both, as an upgrade has while it runs.
CONFIGURATIONS = {
    "aes": ("aes", False, True),
    "sm4": ("sm4", True, False),
    "to-sm4": ("sm4", True, True),
    "to-aes": ("aes", True, True),
}
LABELS = {"aes": "Fernet", "sm4": "SM4"}
# The member list's phases: name, algorithm, the rotation that leads to it (if any).
PHASES = [("aes", "aes", None), ("sm4", "sm4", "to-sm4"), ("aes again", "aes", "to-aes")]
SCENARIOS = [
    ("quwei", "list, unfiltered", "/members/"),
    ("quwei", "search by ID number", "/members/?q={id_number}"),
    ("quwei", "search by phone", "/members/?q={phone}"),
    ("quwei", "member page", "/members/{pk}/"),
    ("shequ", "list, unfiltered", "/members/"),
]
# The member searched for and opened: one of 桥东一社区 (shequ's community), so in every
# user's area, registered, with a phone.
COMMUNITY = "140106001001"


@functools.cache
def settings_keys() -> dict[str, list[str]]:
    """The newest SM4 and Fernet keys of the settings, before `configure` changes them."""
    from django.conf import settings

    return {"sm4": settings.FIELD_SM4_KEYS[:1], "aes": settings.FIELD_ENCRYPTION_KEYS[:1]}


def sm4_form() -> str:
    """What tongzhan.crypto.value_form says of a value the SM4 key writes."""
    return "sm4:" + settings_keys()["sm4"][0].partition(":")[0]


def configure(name: str) -> None:
    """Set the key settings of configuration `name`; tongzhan.crypto reads them per call.
    (The local settings fall back to the key file for a key the environment leaves out, so
    the keys are set here rather than in the children's environment.)"""
    from django.conf import settings

    keys = settings_keys()
    algorithm, sm4, fernet = CONFIGURATIONS[name]
    settings.FIELD_ENCRYPTION_ALGORITHM = algorithm
    settings.FIELD_SM4_KEYS = keys["sm4"] if sm4 else []
    settings.FIELD_ENCRYPTION_KEYS = keys["aes"] if fernet else []
    settings.FIELD_HASH_PREVIOUS_KEYS = []


def import_url(url: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=parts.path.rstrip("/") + "_import"))


# -- The children ------------------------------------------------------------------------------


def child_import_setup(_argument: str) -> dict:
    """Migrate the import's database and load the demo areas; their communities' names."""
    from django.core.management import call_command

    from tongzhan.models import Area

    call_command("migrate", verbosity=0)
    if not Area.objects.communities().exists():
        call_command("seed_demo", members=0, verbosity=0)
    return {"communities": list(Area.objects.communities().values_list("name", flat=True))}


def child_import(path: str) -> dict:
    """The roster import into emptied member tables (roster_import.py's child)."""
    roster_import.empty_member_tables()
    return roster_import.child_ours(Path(path))


def child_seed(members: str) -> dict:
    """seed_demo's members, without activities (the list and the rotation need none)."""
    from django.core.management import call_command

    begin = time.perf_counter()
    call_command("seed_demo", members=int(members), participations=0, verbosity=0)
    return {"seconds": time.perf_counter() - begin}


def child_rotate(_argument: str) -> dict:
    """A key rotation to the configured algorithm, run here (`rotate_keys --now`)."""
    from tongzhan.rotation import rotation_run, rotation_start

    backend_begin, python_begin = roster_import.backend_cpu(), time.process_time()
    begin = time.perf_counter()
    rotation, _new = rotation_start(by="benchmarks/encryption.py")
    done = rotation_run(rotation)
    return {
        "seconds": time.perf_counter() - begin,
        **roster_import.cpu_figures(python_begin, backend_begin),
        "target": done.target,
        "state": done.state,
        "progress": done.progress,
    }


CHILDREN = {
    "import-setup": child_import_setup,
    "import": child_import,
    "seed": child_seed,
    "rotate": child_rotate,
}


def run_child(kind: str, configuration: str, argument: str = "", database_url=None) -> dict:
    completed = subprocess.run(  # noqa: S603 (this script, with arguments it chose)
        [sys.executable, __file__, "--child", kind, configuration, argument],
        capture_output=True,
        text=True,
        cwd=common.ROOT,
        env={**os.environ, "DATABASE_URL": database_url or os.environ["DATABASE_URL"]},
    )
    if completed.returncode != 0:
        sys.stderr.write(completed.stderr)
        raise SystemExit(f"The {kind} child ({configuration}) failed: {completed.returncode}.")
    return json.loads(completed.stdout.strip().splitlines()[-1])


# -- 1. Per value ------------------------------------------------------------------------------

ROUNDS = 3


def id_numbers(count: int, seed: int) -> list[str]:
    from tongzhan.idnumber import check_character

    rng = random.Random(seed)
    numbers = []
    for _ in range(count):
        birth = datetime.date(1940, 1, 1) + datetime.timedelta(days=rng.randrange(0, 28000))
        first17 = f"140106{birth:%Y%m%d}{rng.randrange(0, 1000):03d}"
        numbers.append(first17 + check_character(first17))
    return numbers


def per_value(count: int, seed: int) -> dict:
    """CPU µs per value of encrypt, decrypt and lookup_hash for each algorithm, the best of
    ROUNDS rounds taken in turns (Fernet, SM4, Fernet, SM4, ...), and the stored length. CPU
    time (this process is single-threaded): on a shared machine the wall time also counts
    the moments another process has the core."""
    from tongzhan import crypto

    numbers = id_numbers(count, seed)
    best: dict[tuple[str, str], float] = {}
    lengths = {}
    for _round in range(ROUNDS):
        for algorithm in ("aes", "sm4"):
            configure(algorithm)
            begin = time.process_time()
            tokens = [crypto.encrypt(number) for number in numbers]
            encrypted = time.process_time()
            plain = [crypto.decrypt(token) for token in tokens]
            decrypted = time.process_time()
            for number in numbers:
                crypto.lookup_hash(number)
            hashed = time.process_time()
            assert plain == numbers
            for operation, seconds in (
                ("encrypt", encrypted - begin),
                ("decrypt", decrypted - encrypted),
                ("lookup hash", hashed - decrypted),
            ):
                micro = seconds / count * 1e6
                best[(operation, algorithm)] = min(best.get((operation, algorithm), micro), micro)
            lengths[algorithm] = statistics.mean(len(token) for token in tokens)
    return {"µs": best, "length": lengths}


# -- 3. The member list ------------------------------------------------------------------------


def stored_forms() -> dict[str, int]:
    """How many stored values of every model are in each form (tongzhan.rotation)."""
    from tongzhan.rotation import value_forms

    total: dict[str, int] = {}
    for forms in value_forms().values():
        for form, count in forms.items():
            total[form] = total.get(form, 0) + count
    return total


def compact() -> float:
    """VACUUM FULL the tables the rotation rewrites, then VACUUM ANALYZE everything: both
    algorithms are then measured on tables as compact as freshly seeded ones (a rotation
    leaves a dead version of every row it rewrote), with the visibility map set."""
    from django.db import connection

    from tongzhan.rotation import encrypted_models

    begin = time.perf_counter()
    with connection.cursor() as cursor:
        for model, _names in encrypted_models():
            cursor.execute(f'VACUUM (FULL, ANALYZE) "{model._meta.db_table}"')
        cursor.execute("VACUUM (ANALYZE)")
    return time.perf_counter() - begin


def list_cases() -> tuple[list[tuple[str, str, str]], object]:
    from members.models import Member

    member = (
        Member.objects.filter(community__code=COMMUNITY, status=Member.Status.ACTIVE)
        .exclude(phone="")
        .order_by("pk")
        .first()
    )
    values = {"id_number": member.id_number, "phone": member.phone, "pk": member.pk}
    cases = [(user, name, url.format(**values)) for user, name, url in SCENARIOS]
    return cases, member


def time_list(clients, cases, member, requests: int) -> tuple[dict, dict]:
    """Wall and CPU ms per request of each case."""
    found = f"/members/{member.pk}/"

    def check(case, response):
        # A search must find the member, before and after the rotation.
        if "q=" in case[2]:
            assert found in response.content.decode(), (case, "member not found")

    # Each phase from the same collector state: a full collection of this process's heap
    # lands on one request and would be charged to whichever phase it falls in.
    gc.collect()
    timings, _queries, cpu = common.time_cases(clients, cases, requests, check)
    return timings, cpu


def rotation_rows(progress: dict) -> tuple[int, int]:
    """Rows read and rows rewritten over every model."""
    steps = [step for step in progress.values() if isinstance(step, dict)]  # not the keys
    return (
        sum(step.get("read", 0) for step in steps),
        sum(step.get("rewritten", 0) for step in steps),
    )


# -- The parent --------------------------------------------------------------------------------


def ratio(sm4: float, aes: float) -> str:
    return f"{sm4 / aes:.2f}" if aes else "—"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=100_000, help="values and roster rows")
    parser.add_argument("--members", type=int, default=200_000)
    parser.add_argument("--requests", type=int, default=60, help="timed requests per scenario")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument(
        "--import-url",
        help="the import's database, whose member tables are emptied (default: DATABASE_URL's "
        "name with _import; DATABASE_URL itself when the members need not be kept)",
    )
    parser.add_argument(
        "--reuse-file",
        action="store_true",
        help="use the roster in $TMPDIR if it was written before with the same rows and seed",
    )
    parser.add_argument("--child", nargs=3, metavar=("KIND", "CONF", "ARG"), help=argparse.SUPPRESS)
    options = parser.parse_args()

    if options.child:
        kind, configuration, argument = options.child
        common.setup_django(DEFAULT_DATABASE_URL)
        configure(configuration)
        outcome = CHILDREN[kind](argument)
        outcome["peak_mb"] = common.peak_mb()
        print(json.dumps(outcome, ensure_ascii=False, default=str))
        return 0

    started, load = time.monotonic(), os.getloadavg()[0]
    database_url = os.environ.setdefault("DATABASE_URL", DEFAULT_DATABASE_URL)
    imports_url = options.import_url or import_url(database_url)
    for url in (database_url, imports_url):
        if not urlsplit(url).scheme.startswith("postgres"):
            print(f"The databases must be PostgreSQL, not {url}.", file=sys.stderr)
            return 2
        roster_import.ensure_database(url)
    common.setup_django(database_url)

    from django.core.management import call_command
    from django.db import connection

    from members.models import Member

    settings_keys()  # before any configuration changes them

    # 1. Per value.
    print(f"Per value: {options.rows} ID numbers encrypted, decrypted and hashed...", flush=True)
    values = per_value(options.rows, options.seed)

    # 2. The member list: Fernet, SM4 after the rotation, Fernet again after the rotation back
    # (so that drift over the run shows, and the database is left as it was found).
    call_command("migrate", verbosity=0)
    call_command("collectstatic", interactive=False, verbosity=0)
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        version = cursor.fetchone()[0]
    configure("aes")
    rotations = {}
    attempts = 0
    while set(forms := stored_forms()) - {"aes"}:
        # Twice at most: an interrupted rotation towards SM4 is resumed, as it stands, by the
        # first (rotation_start takes up the unfinished one), which leaves the rows it had
        # passed in SM4; the second is a new rotation over everything.
        if attempts == 2:
            print(f"Values not in Fernet remain: {forms}.", file=sys.stderr)
            return 1
        print(f"Rotating what an earlier run left in SM4 to Fernet first {forms}...", flush=True)
        rotations["before"] = run_child("rotate", "to-aes")
        attempts += 1
    seeded, present = None, Member.objects.count()
    if present < options.members:
        print(f"Seeding {options.members - present} members with Fernet...", flush=True)
        seeded = run_child("seed", "aes", str(options.members - present))
    total = Member.objects.count()
    clients = common.logged_in_clients({user for user, _name, _url in SCENARIOS})
    cases, member = list_cases()
    compacted, timings = {}, {}
    for phase, algorithm, rotate in PHASES:
        if rotate:
            print(f"Key rotation to {LABELS[algorithm]}...", flush=True)
            rotations[phase] = run_child("rotate", rotate)
        compacted[phase] = compact()
        configure(algorithm)
        forms = stored_forms()
        assert set(forms) == {sm4_form() if algorithm == "sm4" else "aes"}, forms
        print(f"{total} members; the list with {LABELS[algorithm]}...", flush=True)
        timings[phase] = time_list(clients, cases, member, options.requests)
    connection.close()

    # 3. The import, into emptied member tables (each child empties them).
    communities = run_child("import-setup", "aes", "", imports_url)["communities"]
    path = Path(tempfile.gettempdir()) / f"tongzhan-roster-{options.rows}-seed{options.seed}.xlsx"
    if options.reuse_file and path.exists():
        print(f"Reusing {path}.")
    else:
        begin = time.monotonic()
        roster_import.write_roster(path, options.rows, options.seed, communities)
        print(f"Wrote {path} ({options.rows} rows) in {time.monotonic() - begin:.1f} s.")
    imports = []
    for algorithm in ("aes", "sm4", "sm4", "aes"):
        print(f"Import with {LABELS[algorithm]}...", flush=True)
        outcome = run_child("import", algorithm, str(path), imports_url)
        if outcome["created"] != options.rows:
            raise SystemExit(f"The import created {outcome['created']} of {options.rows} rows.")
        imports.append((algorithm, outcome))

    # The figures.
    print(
        f"\nPostgreSQL {version}; load average {load:.2f} at the start, "
        f"{os.getloadavg()[0]:.2f} at the end; {time.monotonic() - started:.0f} s in all.\n"
    )
    header = f"{'per value (CPU µs)':<28} {'Fernet':>9} {'SM4':>9} {'SM4/Fernet':>11}"
    print(f"{header}\n{'-' * len(header)}")
    for operation in ("encrypt", "decrypt", "lookup hash"):
        aes, sm4 = values["µs"][(operation, "aes")], values["µs"][(operation, "sm4")]
        print(f"{operation:<28} {aes:>9.1f} {sm4:>9.1f} {ratio(sm4, aes):>11}")
    aes, sm4 = values["length"]["aes"], values["length"]["sm4"]
    print(f"{'stored ID number (chars)':<28} {aes:>9.0f} {sm4:>9.0f} {ratio(sm4, aes):>11}")
    print(f"({options.rows} values, the best of {ROUNDS} rounds.)")

    header = (
        f"\n{'import of ' + str(options.rows) + ' rows':<22} {'seconds':>8} {'rows/s':>8} "
        f"{'CPU s':>6} {'PG CPU s':>8} {'peak MB':>8}"
    )
    print(f"{header}\n{'-' * (len(header) - 1)}")
    for algorithm, outcome in imports:
        print(
            f"{LABELS[algorithm]:<22} {outcome['seconds']:>8.1f} "
            f"{options.rows / outcome['seconds']:>8.0f} "
            f"{roster_import.cpu_text(outcome.get('cpu')):>6} "
            f"{roster_import.cpu_text(outcome.get('pg_cpu')):>8} {outcome['peak_mb']:>8.0f}"
        )
    means = {
        algorithm: statistics.mean(o["seconds"] for a, o in imports if a == algorithm)
        for algorithm in ("aes", "sm4")
    }
    cpu = {
        algorithm: statistics.mean(
            (o.get("cpu") or 0) + (o.get("pg_cpu") or 0) for a, o in imports if a == algorithm
        )
        for algorithm in ("aes", "sm4")
    }
    print(
        f"mean: Fernet {means['aes']:.1f} s, SM4 {means['sm4']:.1f} s, "
        f"SM4/Fernet {ratio(means['sm4'], means['aes'])}; CPU s (Python and PostgreSQL) "
        f"Fernet {cpu['aes']:.1f}, SM4 {cpu['sm4']:.1f}, SM4/Fernet {ratio(cpu['sm4'], cpu['aes'])}"
    )

    width = max(common.display_width(name) for _user, name, _url in cases) + 2
    header = (
        f"\n{'user':<7} {'scenario':<{width}} "
        f"{'p50 F':>6} {'p50 SM4':>7} {'p50 F2':>6} {'ratio':>5}  "
        f"{'p95 F':>6} {'p95 SM4':>7} {'p95 F2':>6} {'ratio':>5}  "
        f"{'CPU F':>6} {'CPU SM4':>7} {'CPU F2':>6} {'ratio':>5}"
    )
    print(f"{header}\n{'-' * (len(header) - 1)}")
    for user, name, _url in cases:
        line = f"{user:<7} {common.pad(name, width)}"
        for kind, figure in (
            (0, statistics.median),
            (0, lambda values: common.percentile(values, 0.95)),
            (1, statistics.median),
        ):
            fernet, sm4, again = (
                figure(timings[phase][kind][(user, name)]) for phase, _a, _r in PHASES
            )
            line += (
                f" {fernet:>6.1f} {sm4:>7.1f} {again:>6.1f} {ratio(sm4, (fernet + again) / 2):>5} "
            )
        print(line.rstrip())
    print(
        f"({total} members; ms; {options.requests} timed requests per scenario and phase: "
        f"F Fernet, SM4 after the rotation, F2 Fernet after the rotation back; ratio SM4 to "
        f"the mean of F and F2; CPU the median CPU ms of the Python process per request.)"
    )

    print()
    for phase, algorithm, _rotate in [("before", "aes", "to-aes"), *PHASES]:
        outcome = rotations.get(phase)
        if outcome is None:
            continue
        read, rewritten = rotation_rows(outcome["progress"])
        members_read = outcome["progress"].get("members.member", {}).get("read", 0)
        label = "before the run " if phase == "before" else ""
        print(
            f"Key rotation to {LABELS[algorithm]} {label}(rotate_keys --now): "
            f"{outcome['seconds']:.1f} s for {read} rows ({members_read} members), "
            f"{rewritten} rewritten, {read / outcome['seconds']:.0f} rows/s; CPU s "
            f"{roster_import.cpu_text(outcome.get('cpu'))}, PG CPU s "
            f"{roster_import.cpu_text(outcome.get('pg_cpu'))}; peak {outcome['peak_mb']:.0f} MB."
        )
    if seeded is not None:
        print(f"Seeding {options.members - present} members: {seeded['seconds']:.1f} s.")
    print(
        "VACUUM FULL of the rotated tables before each phase: "
        + ", ".join(f"{compacted[phase]:.1f} s" for phase, _a, _r in PHASES)
        + "."
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
