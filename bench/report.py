"""docs/benchmarks.md from a run's results: the figures, the machine, how to reproduce."""

from pathlib import Path

from bench import questions as q
from bench.sync import SCIM_RATE

FINDINGS = Path(__file__).resolve().parent / "findings.md"
MB = 1_000_000
MIB = 2**20

FANOUT_RATIO_MAX = 1.5
MEMORY_GROWTH_MAX = 50 * MB
READINESS_MEDIAN_MAX_MS = 50
COVERAGE_MEDIAN_MAX_MS = 100
COVERAGE_QUERIES_MAX = 5
PAGE_QUERIES_MAX = 15
PAGE_MEDIAN_MAX_MS = 100
SYNC_MAX_S = 60
SCIM_LAG_MAX_S = 10  # the last backlog at most this long after the last SCIM POST
PLAYBOOK_SEARCH_MEDIAN_MAX_MS = 50


def _page_summary(page, *, p90: bool = False) -> list[tuple[str, str, str, str]]:
    """A measured page's two summary rows (queries, median), or its gap."""
    if page.gap:
        return [(page.name, "measured", f"not measured: {page.gap}", "**GAP**")]
    median = f"{page.median_ms:.1f} ms" + (f" (p90 {page.p90_ms:.1f} ms)" if p90 else "")
    return [
        (
            f"{page.name}: queries",
            f"≤ {PAGE_QUERIES_MAX}",
            str(page.queries),
            _verdict(page.queries <= PAGE_QUERIES_MAX),
        ),
        (
            f"{page.name}: median",
            f"< {PAGE_MEDIAN_MAX_MS} ms",
            median,
            _verdict(page.median_ms < PAGE_MEDIAN_MAX_MS),
        ),
    ]


def _verdict(ok: bool | None) -> str:
    return "n/a" if ok is None else ("PASS" if ok else "**MISS**")


def _mib(value: int) -> str:
    return f"{value / MIB:.0f} MiB"


def _scim_sync_summary(item) -> tuple[str, str, str, str]:
    figures = (
        f"{item.achieved_rate:.1f} POST/s, answer median {item.median_ms:.1f} ms "
        f"(p95 {item.p95_ms:.1f} ms); last backlog {item.backlog_lag_s:.1f} s after the "
        f"last POST; 20,000 at this pace: {20_000 / item.achieved_rate:.0f} s"
    )
    if item.rate:
        return (
            f"SCIM: {item.size:,} new users POSTed one by one at {item.rate:.0f}/s "
            "(Entra ID's rate) with backlog",
            f"keeps pace: median < {1000 / item.rate:.0f} ms, backlog ≤ {SCIM_LAG_MAX_S} s behind",
            figures,
            _verdict(
                item.median_ms < 1000 / item.rate
                and item.achieved_rate >= 0.95 * item.rate
                and item.backlog_lag_s <= SCIM_LAG_MAX_S
            ),
        )
    return (
        f"SCIM: {item.size:,} new users POSTed one by one as fast as answered, with backlog",
        f"≥ {SCIM_RATE:.0f} POST/s on one connection",
        figures,
        _verdict(item.achieved_rate >= SCIM_RATE),
    )


def render(results: dict) -> str:
    out: list[str] = []
    add = out.append
    machine = results["machine"]
    add("# Benchmarks\n")
    quick = results["mode"] == "quick"
    add(
        "Written by `make bench` (`python -m bench.run`), "
        + ("**quick mode: small sizes, not the figures the targets are about**, " if quick else "")
        + f"run of {results['started_at']}, {results.get('duration_s', 0):.0f} s in all. "
        "Every figure below comes from that one run; rerun it to replace them. Times are "
        "wall-clock on a shared machine: compare figures of one run with each other "
        "(that is why each baseline is measured in the same run) rather than across runs.\n"
    )
    add("## Machine\n")
    add("| | |\n| --- | --- |")
    add(f"| CPUs | {machine['cpus']} x {machine['cpu']} |")
    add(f"| memory | {machine['memory_gib']} GiB |")
    add(f"| kernel, Python | Linux {machine['kernel']}, Python {machine['python']} |")
    add(f"| PostgreSQL | {machine['postgresql']} (same machine, loopback) |")
    add(f"| Redis | {machine['redis']} (same machine, loopback) |")
    add(f"| load generator | {machine['wrk']} |")
    add(
        f"| load average (1, 5, 15 min) | before {machine['load_before']}; "
        f"after {machine.get('load_after', '?')} |\n"
    )

    summary: list[tuple[str, str, str, str]] = []
    fan = results.get("fanout") or []
    for item in fan:
        summary.append(
            (
                f"fan-out to {item.size:,} engineers vs COPY",
                f"≤ {FANOUT_RATIO_MAX}x",
                f"{item.fanout_s:.2f} s vs {item.copy_s:.2f} s = {item.ratio:.2f}x",
                _verdict(item.ratio <= FANOUT_RATIO_MAX),
            )
        )
    if len(fan) >= 2:
        small, large = fan[0], fan[-1]
        growth = large.worker_hwm - small.worker_hwm
        summary.append(
            (
                f"worker peak memory, {large.size:,} vs {small.size:,}",
                "≤ +50 MB",
                f"{_mib(large.worker_hwm)} vs {_mib(small.worker_hwm)} ({growth / MB:+.1f} MB)",
                _verdict(growth <= MEMORY_GROWTH_MAX),
            )
        )
    synced = results.get("sync")
    if synced:
        summary.append(
            (
                f"bulk sync of {synced.size:,} engineers ({synced.calls} calls) with backlog",
                f"< {SYNC_MAX_S} s",
                f"{synced.total_s:.1f} s ({synced.posts_s:.1f} s posting, slowest call "
                f"{synced.slowest_call_s:.1f} s; {synced.assignments:,} assignments)",
                _verdict(synced.total_s < SYNC_MAX_S),
            )
        )
    for scim_sync in results.get("scim_sync") or []:
        summary.append(_scim_sync_summary(scim_sync))
    for page in results.get("scim") or []:
        summary += _page_summary(page, p90=True)
    bank = results.get("questions")
    if bank:
        summary.append(
            (
                f"attempt start drawing {q.DRAW} of {q.POOL:,} pool questions: queries",
                f"≤ {q.START_QUERIES_MAX}",
                str(bank.start_queries),
                _verdict(bank.start_queries <= q.START_QUERIES_MAX),
            )
        )
        summary.append(
            (
                f"attempt start drawing {q.DRAW} of {q.POOL:,}: median time",
                f"< {q.START_MS_MAX:.0f} ms",
                f"{bank.start_median_ms:.1f} ms (p95 {bank.start_p95_ms:.1f} ms, "
                f"{bank.starts} starts)",
                _verdict(bank.start_median_ms < q.START_MS_MAX),
            )
        )
        summary.append(
            (
                f"submission of a {q.DRAW}-question mixed attempt: statements",
                f"≤ {q.SUBMIT_STATEMENTS_MAX}",
                str(bank.submit_statements),
                _verdict(bank.submit_statements <= q.SUBMIT_STATEMENTS_MAX),
            )
        )
        if bank.item_answers:
            summary.append(
                (
                    f"item analysis over {bank.item_answers:,} answers",
                    f"< {q.ITEM_MS_MAX:.0f} ms",
                    f"{bank.item_median_ms:.0f} ms ({bank.item_queries} queries)",
                    _verdict(bank.item_median_ms < q.ITEM_MS_MAX),
                )
            )
    ready = results.get("readiness") or []
    for item in ready:
        summary.append(
            (
                f"readiness endpoint, {item.size:,} assignments",
                f"median < {READINESS_MEDIAN_MAX_MS} ms",
                f"{item.endpoint_median_ms:.1f} ms kept; {item.folded_median_ms:.1f} ms "
                "right after a quiz passed",
                _verdict(
                    max(item.endpoint_median_ms, item.folded_median_ms) < READINESS_MEDIAN_MAX_MS
                ),
            )
        )
    for item in ready:
        # Issue 12: the count itself, when the kept counts are stale and for the gate.
        summary.append(
            (
                f"readiness count, {item.size:,} assignments: recounted / gate's fresh count",
                f"median < {READINESS_MEDIAN_MAX_MS} ms each",
                f"{item.recount_median_ms:.1f} ms / {item.fresh_median_ms:.1f} ms",
                _verdict(
                    max(item.recount_median_ms, item.fresh_median_ms) < READINESS_MEDIAN_MAX_MS
                ),
            )
        )
    if len(ready) >= 2:
        shown = [
            (item.endpoint_queries, item.folded_queries, item.recount_queries) for item in ready
        ]
        summary.append(
            (
                "readiness queries (kept / after a quiz / recounted), "
                + " vs ".join(f"{item.size:,}" for item in ready)
                + " assignments",
                "independent of size",
                " vs ".join(" / ".join(map(str, counts)) for counts in shown),
                _verdict(len(set(shown)) == 1),
            )
        )
    cover = results.get("coverage")
    if cover:
        summary.append(
            (
                f"coverage of a {cover.hours}-hour window, {cover.engineers:,} engineers",
                f"median < {COVERAGE_MEDIAN_MAX_MS} ms, ≤ {COVERAGE_QUERIES_MAX} queries",
                f"{cover.median_ms:.1f} ms (p90 {cover.p90_ms:.1f} ms), {cover.queries} "
                f"{'query' if cover.queries == 1 else 'queries'}",
                _verdict(
                    cover.median_ms < COVERAGE_MEDIAN_MAX_MS
                    and cover.queries <= COVERAGE_QUERIES_MAX
                ),
            )
        )
    for page in results.get("pages") or []:
        summary += _page_summary(page)
    content = results.get("content") or {}
    if content.get("changelog"):
        parsed = content["changelog"]
        summary.append(
            (
                f"changelog parsed, {parsed['bytes'] / 1000:.0f} KB "
                f"({parsed['versions']:,} versions, {parsed['entries']:,} entries)",
                "median < 1 s",
                f"{parsed['median_ms']:.0f} ms",
                _verdict(parsed["median_ms"] < 1000),
            )
        )
    if content.get("stale"):
        stale = content["stale"]
        summary.append(
            (
                f"stale content marked, {stale['lessons']:,} lessons "
                f"({stale['courses_marked']} courses marked)",
                "median < 1 s",
                f"{stale['median_ms']:.0f} ms",
                _verdict(stale["median_ms"] < 1000),
            )
        )
    for item in results.get("playbooks") or []:
        summary.append(
            (
                f"playbook search, {results.get('playbooks_count', 0):,} playbooks: "
                f"“{item.query}” ({item.matches:,} matches, first page of 20)",
                f"median < {PLAYBOOK_SEARCH_MEDIAN_MAX_MS} ms",
                f"{item.median_ms:.1f} ms",
                _verdict(item.median_ms < PLAYBOOK_SEARCH_MEDIAN_MAX_MS),
            )
        )
    for section in results["errors"]:
        summary.append((section, "runs", "failed (see Errors)", "**ERROR**"))

    add("## Summary\n")
    add("| figure | target | this run | |\n| --- | --- | --- | --- |")
    for row in summary:
        add("| " + " | ".join(row) + " |")
    add("")

    if fan:
        add("## Fan-out: publish to every in-scope engineer\n")
        add(
            "Each size has its own SDK, supported by 10 teams; its engineers are spread over "
            "the three regions, plus 2 % inactive ones (out of scope). 5 % hold every skill "
            "of the release and are exempted, 10 % hold some skills. The release pipeline's "
            "`POST /api/v1/releases/{sdk}/{version}/publish/` (Django test client, bearer "
            "token) queues the task through Redis; a fresh `celery worker --pool=solo` "
            "(one per size, so its VmHWM is that size's peak) runs the set-based "
            "INSERT … SELECT … ON CONFLICT DO NOTHING. **Fan-out** is the wall time from the "
            "publish call to the worker's log line that the task ended (written after its "
            "transaction committed; reading the log puts no load on the database), then the "
            "row count is checked to be exactly N. **COPY** is `COPY training_assignment "
            "(same 11 columns) FROM STDIN` of the very rows the fan-out wrote, into the same "
            "table emptied the same way (DELETE + VACUUM), with the same indexes, constraints "
            "and deferred foreign keys, committed. *Publish answered*: the API call's own "
            "time; *task received*: from the call to the worker logging the task received; "
            "*task alone*: the task's runtime as the worker logs it. *PostgreSQL CPU*: user + "
            "system CPU of the bench database's backends (/proc) over the fan-out and over the "
            "COPY, which other load on the machine moves far less than wall-clock time.\n"
        )
        add(
            "| engineers | publish answered (202) | task received | fan-out | task alone | COPY "
            "| fan-out / COPY | PostgreSQL CPU, fan-out / COPY | exempt "
            "| worker VmHWM idle → peak |"
        )
        add("| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |")
        for item in fan:
            add(
                f"| {item.size:,} | {item.accepted_s * 1000:.0f} ms "
                f"| {item.received_s * 1000:.0f} ms | {item.fanout_s:.2f} s "
                f"| {item.task_s:.2f} s | {item.copy_s:.2f} s | {item.ratio:.2f}x "
                f"| {item.fanout_db_cpu_s:.2f} s / {item.copy_db_cpu_s:.2f} s "
                f"= {item.cpu_ratio:.2f}x "
                f"| {item.exempt:,} | {_mib(item.worker_hwm_idle)} → {_mib(item.worker_hwm)} |"
            )
        add("")

    if ready:
        add("## Readiness of one release\n")
        add(
            "`GET /api/v1/releases/{sdk}/{version}/readiness/` through Django's test client "
            "with a bearer token (token lookup, release lookup, readiness, DRF rendering). "
            "70 % of the engineers are complete, 15 % in progress, 5 % exempt. Each release "
            "keeps its readiness counts (`ReadinessSnapshot`, see `training/"
            "readiness/`); the columns are the endpoint in the three states they can be "
            "in. *Kept*: nothing changed since the last read. *After a quiz passed*: each "
            "call follows one more engineer's completion, which the service folds into the "
            "kept counts (*fold*: what that cost the completing transaction). *Recounted*: "
            "each call follows a change that is not folded (a region change, a moved date, "
            "a fan-out), so every in-scope engineer is counted again. *Gate*: the fresh "
            "count `release_mark_available` makes under the release's lock, the selector "
            "alone. Queries counted with `CaptureQueriesContext`.\n"
        )
        add(
            "| assignments | calls | kept: median / p90 | after a quiz passed: median / p90 "
            "| fold | recounted: median / p90 | gate | queries (kept / after a quiz / "
            "recounted) |"
        )
        add("| ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |")
        for item in ready:
            add(
                f"| {item.size:,} | {item.calls} "
                f"| {item.endpoint_median_ms:.1f} / {item.endpoint_p90_ms:.1f} ms "
                f"| {item.folded_median_ms:.1f} / {item.folded_p90_ms:.1f} ms "
                f"| {item.fold_median_ms:.1f} ms "
                f"| {item.recount_median_ms:.1f} / {item.recount_p90_ms:.1f} ms "
                f"| {item.fresh_median_ms:.1f} ms "
                f"| {item.endpoint_queries} / {item.folded_queries} / {item.recount_queries} |"
            )
        add("")
        largest = ready[-1]
        add(
            f"The count's plan at {largest.size:,} assignments (`EXPLAIN ANALYZE`; what a "
            "recount and the gate run):\n"
        )
        add("```text\n" + largest.plan + "\n```\n")

    page_results = results.get("pages")
    if page_results:
        from bench.pages import BUDGET_MS, BUDGET_QUERIES

        add("## Pages at team scale: 500 engineers x 100 skills\n")
        add(
            "One team of 500 engineers (one lead), 100 skills with a record for about 30 % "
            "of the engineer x skill pairs (about 15,000 records), three published releases "
            "with a course and quiz each plus an onboarding course, every engineer assigned "
            "all four, 70 % complete. Rendered through Django's test client after "
            "`force_login`, DEBUG off, production static storage. The release history "
            "also holds a draft release and one made available over the gate (an "
            "override); the manager (a support manager, leading no team) sees every "
            f"region. Budget: at most {BUDGET_QUERIES} queries and a median under "
            f"{BUDGET_MS:.0f} ms per page.\n"
        )
        add("| page | URL | renders | median | p90 | SQL queries | within budget |")
        add("| --- | --- | ---: | ---: | ---: | ---: | --- |")
        for page in page_results:
            if page.gap:
                add(
                    f"| {page.name} | {page.url or '—'} | — | — | — | "
                    f"not measured: {page.gap} | — |"
                )
            else:
                budget = "yes" if page.within_budget else "**no**"
                add(
                    f"| {page.name} | `{page.url}` | {page.renders} | {page.median_ms:.1f} ms "
                    f"| {page.p90_ms:.1f} ms | {page.queries} | {budget} |"
                )
        add("")

    if synced or results.get("scim_sync"):
        add("## People sync: the bulk endpoint and SCIM\n")
        add(
            "New engineers of one team (an onboarding course, a published release with a "
            "course), each needing both as their backlog, with a Celery worker (solo pool) "
            "assigning it. Bulk: `POST /api/v1/engineers/bulk/`, 1,000 bodies a call, one "
            "call after another; one backlog task per call. SCIM: `POST /scim/v2/Users`, one "
            "user a request, one after another, first at the rate an identity provider "
            f"sends ({SCIM_RATE:.0f}/s: what Microsoft Entra ID requires an app to take per "
            "tenant), then each as soon as the last was answered (what one connection can "
            "get through); one backlog task per user. Timed through Django's test client "
            "from the first request until every new engineer holds both assignments.\n"
        )
        add(
            "| path | engineers | sent | requests | answer median / p95 / max | "
            "all sent in | backlog done | 20,000 at this pace |"
        )
        add("| --- | ---: | --- | ---: | --- | ---: | ---: | ---: |")
        if synced:
            add(
                f"| bulk endpoint | {synced.size:,} | one call after another | {synced.calls} "
                f"| slowest call {synced.slowest_call_s:.2f} s | {synced.posts_s:.1f} s "
                f"| {synced.total_s:.1f} s | {synced.total_s * 20_000 / synced.size:.0f} s |"
            )
        for item in results.get("scim_sync") or []:
            pace = f"{item.rate:.0f}/s" if item.rate else "as answered"
            add(
                f"| SCIM POST | {item.size:,} | {pace} ({item.achieved_rate:.1f}/s) | "
                f"{item.size:,} | {item.median_ms:.1f} / {item.p95_ms:.1f} / {item.max_ms:.0f} ms "
                f"| {item.posts_s:.1f} s | {item.total_s:.1f} s "
                f"| {20_000 / item.achieved_rate:.0f} s |"
            )
        add("")

    if results.get("scim"):
        add("## SCIM: an identity provider reading its users\n")
        add(
            "`GET /scim/v2/Users?count=100&startIndex=…` through Django's test client with a "
            "`scim` token, every page of the list once, first over exactly 10,000 provisioned "
            "engineers (the section runs before any other adds engineers), then, when the "
            "run made many more, over all of them. Queries: one page in the middle.\n"
        )
        add("| list | pages | median | p90 | SQL queries | within budget |")
        add("| --- | ---: | ---: | ---: | ---: | --- |")
        for page in results["scim"]:
            if page.gap:
                add(f"| {page.name} | — | — | — | not measured: {page.gap} | — |")
            else:
                budget = "yes" if page.within_budget else "**no**"
                add(
                    f"| {page.name} | {page.renders} | {page.median_ms:.1f} ms "
                    f"| {page.p90_ms:.1f} ms | {page.queries} | {budget} |"
                )
        add("")

    if results.get("http"):
        plan = results["plan"]
        add("## HTTP load: gunicorn, 2 sync workers, loopback\n")
        add(
            f"`gunicorn training.wsgi --workers 2` on 127.0.0.1 with production settings "
            f"(DEBUG off) and a bench-only URLconf (`bench/urls.py`) that adds the trivial "
            f"view `/bench/ping`; `wrk -t2 -c4 -d{plan['wrk_seconds']}s --latency` per "
            "endpoint, one after another, wrk, gunicorn, PostgreSQL and Redis all on this "
            "machine's cores. Quiz submission: `POST /attempts/<id>/` with every answer "
            "right, each request from a different engineer's session (cookie + CSRF), each "
            "grading a fresh open attempt (grade, skill records, assignment progress) while "
            "the pool lasts. Ratio: requests per second against the trivial view's.\n"
        )
        add("| endpoint | requests | req/s | p50 | p99 | vs trivial view | notes |")
        add("| --- | ---: | ---: | ---: | ---: | ---: | --- |")
        for run in results["http"]:
            ratio = f"{run.ratio:.2f}" if run.ratio is not None else "—"
            notes = "; ".join(filter(None, [run.note, run.errors]))
            add(
                f"| {run.name} (`{run.path}`) | {run.requests:,} | {run.rps:.0f} "
                f"| {run.p50_ms:.1f} ms | {run.p99_ms:.1f} ms | {ratio} | {notes} |"
            )
        add("")
    elif results.get("http_skipped"):
        add(f"## HTTP load\n\nNot run: {results['http_skipped']}.\n")

    if FINDINGS.exists():
        add(FINDINGS.read_text().rstrip() + "\n")

    if results["errors"]:
        add("## Errors\n")
        for section, error in results["errors"].items():
            add(f"### {section}\n\n```text\n{error.rstrip()}\n```\n")

    add(
        """## How to reproduce

```sh
make bench                   # the full suite; writes this file
.venv/bin/python -m bench.run --quick   # small sizes in a minute or two (report in /tmp)
```

Needs PostgreSQL and Redis (exit status 2 with a message when either does not
answer) and `wrk` for the HTTP section (`apt-get install wrk`; without it that
section is skipped and says so). The run drops and recreates its own database,
`BENCH_DATABASE_URL` (default `postgres://postgres@127.0.0.1:5432/preflight_bench`;
the name must contain `bench`), migrates it with `manage.py migrate`, and uses
`BENCH_BROKER_URL` (default `redis://127.0.0.1:6379/3`, never database 0) with
queues of its own, purged at the end. Processes it starts (Celery workers,
gunicorn) get `DJANGO_SETTINGS_MODULE=bench.settings`: the production settings with
DEBUG off, a random `SECRET_KEY` and the bench URLconf. Logs and scratch files go
to a `preflight-bench-*` directory under the system's temporary directory, named
at the start of the run.

Run it on a quiet machine: other processes on the same cores move every figure.
To profile a section, `py-spy record -o out.svg --pid <worker pid>` while the
fan-out runs, or `EXPLAIN (ANALYZE, BUFFERS)` the query (the readiness plan is
above).
"""
    )
    return "\n".join(out)
