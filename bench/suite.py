"""The sections of a run, in order, once Django is set up (see bench.run)."""

import uuid
from pathlib import Path

from bench import (
    content,
    coverage,
    data,
    fanout,
    load,
    pages,
    playbooks,
    questions,
    readiness,
    scim,
    sync,
)
from bench.infra import Gunicorn, guarded, has_wrk, step
from courses.models import Release
from training.services.tokens import token_issue

# Tasks this process queues outside a measurement (publishing the releases the
# readiness and page sections use) go here, where no worker listens; purged at the end.
HOME_QUEUE = f"preflight-bench-home-{uuid.uuid4().hex[:8]}"


def run(
    results: dict, *, plan: dict, sections: set, env: dict, database_url: str, workdir: Path
) -> None:
    fanout.route_every_task(to={"*": {"queue": HOME_QUEUE}})
    token = token_issue(name="bench-pipeline", scopes=["releases"])[1]
    releases = []
    scim_token = None
    if "scim" in sections:
        # First: the directory is then exactly the 10,000 users the target is about.
        scim_token = _scim(results)
    if "fanout" in sections:
        _fanout(results, plan, env, token, database_url, workdir)
    if "readiness" in sections or "http" in sections:
        releases = _readiness_releases(results, plan)
    if "readiness" in sections:
        _readiness(results, plan, token, releases)
    if "coverage" in sections:
        _coverage(results, plan)
    if "pages" in sections:
        _pages(results, plan)
    if "questions" in sections:
        _questions(results)
    if "content" in sections:
        _content(results)
    if "sync" in sections:
        _sync(results, plan, env, workdir)
    if "playbooks" in sections:
        _playbooks(results, plan)
    if "http" in sections:
        if not has_wrk():
            results["http_skipped"] = "wrk is not installed (apt-get install wrk)"
        else:
            guarded(results, "http", _http, results, plan, env, token, workdir, releases)
    if scim_token and (guarded(results, "scim size", scim.directory_size) or 0) >= 2 * scim.USERS:
        step("scim", "the same walk over every engineer the run made")
        row = guarded(results, "scim (whole run)", scim.measure, scim_token)
        if row is not None:
            results["scim"].append(row)
            step("scim", f"{row.name}: {row.gap or f'{row.median_ms:.1f} ms'}")


def _scim(results) -> str | None:
    step("scim", f"building {scim.USERS:,} provisioned engineers, walking every page")
    results["scim"] = []
    scim_token = guarded(results, "scim data", scim.prepare)
    if scim_token:
        row = guarded(results, "scim", scim.measure, scim_token)
        if row is not None:
            results["scim"].append(row)
            step("scim", f"{row.name}: {row.gap or f'{row.median_ms:.1f} ms'}")
    return scim_token


def _fanout(results, plan, env, token, database_url, workdir) -> None:
    sizes = plan["fanout_sizes"]
    step("fan-out", f"building {' and '.join(f'{n:,}' for n in sizes)} engineers")
    prepared = fanout.prepare(sizes)
    results["fanout_releases"] = {size: prepared[size]["release"].pk for size in sizes}
    data.analyze()
    results["fanout"] = []
    for size in sizes:
        step("fan-out", f"publishing to {size:,} engineers, then COPY of the same rows")
        result = guarded(
            results,
            f"fan-out {size}",
            fanout.measure,
            size=size,
            prep=prepared[size],
            env=env,
            token=token,
            database_url=database_url,
            logs=workdir,
            home_queue=HOME_QUEUE,
        )
        if result:
            results["fanout"].append(result)
            step(
                "fan-out",
                f"{size:,}: {result.fanout_s:.2f}s vs COPY {result.copy_s:.2f}s "
                f"({result.ratio:.2f}x), worker VmHWM {result.worker_hwm / 2**20:.0f} MiB",
            )


def _content(results) -> None:
    step("content", "parsing a 300 KB changelog; marking stale lessons among 2,000")
    changelog = guarded(results, "content changelog", content.measure_changelog)
    stale = guarded(results, "content stale", content.measure_stale)
    results["content"] = {"changelog": changelog, "stale": stale}
    if changelog:
        step("content", f"changelog {changelog['bytes']:,} bytes: {changelog['median_ms']:.0f} ms")
    if stale:
        step(
            "content",
            f"stale search over {stale['lessons']:,} lessons: {stale['median_ms']:.0f} ms",
        )


def _coverage(results, plan) -> None:
    size = plan["coverage_engineers"]
    step("coverage", f"building {size:,} engineers with shifts and time off")
    release = guarded(results, "coverage data", coverage.prepare, size)
    if release is None:
        return
    step("coverage", f"{plan['coverage_calls']} reads of a 72-hour window")
    result = guarded(
        results,
        "coverage",
        coverage.measure,
        release,
        calls=plan["coverage_calls"],
        engineers=size,
    )
    if result:
        results["coverage"] = result
        step("coverage", f"median {result.median_ms:.1f} ms, {result.queries} queries")


def _readiness_releases(results, plan) -> list[tuple[int, Release]]:
    """The releases readiness is read on: a small one, and the largest fan-out's
    (built here, assigned in-process, when the fan-out section did not run)."""
    step("readiness", "building releases and their progress")
    releases = []
    biggest = max(plan["fanout_sizes"])
    for size in plan["readiness_sizes"]:
        release = guarded(results, f"readiness {size} data", readiness.prepare_small, size)
        if release:
            releases.append((size, release))
    big_pk = (results.get("fanout_releases") or {}).get(biggest)
    big = Release.objects.select_related("sdk").filter(pk=big_pk).first()
    if big is None or big.assignments.count() != biggest:
        big = guarded(results, f"readiness {biggest} data", readiness.prepare_small, biggest)
    if big is not None:
        releases.append((biggest, big))
    for _, release in releases:
        readiness.add_progress(release)
    return releases


def _readiness(results, plan, token, releases) -> None:
    results["readiness"] = []
    for size, release in releases:
        step("readiness", f"{plan['readiness_calls']} calls at {size:,} assignments")
        result = guarded(
            results,
            f"readiness {size}",
            readiness.measure,
            release=release,
            size=size,
            token=token,
            calls=plan["readiness_calls"],
        )
        if result:
            results["readiness"].append(result)
            step(
                "readiness",
                f"{size:,}: median {result.endpoint_median_ms:.1f} ms kept, "
                f"{result.folded_median_ms:.1f} ms after a quiz passed, "
                f"{result.recount_median_ms:.1f} ms recounted, "
                f"{result.fresh_median_ms:.1f} ms the gate's fresh count",
            )


def _questions(results) -> None:
    step("questions", f"a pool of {questions.POOL:,} questions, attempts drawing {questions.DRAW}")
    prep = guarded(results, "questions data", questions.prepare, 41)
    if prep:
        result = guarded(results, "questions", questions.measure, prep)
        results["questions"] = result
        if result:
            step(
                "questions",
                f"start: {result.start_queries} queries, median {result.start_median_ms:.1f} ms; "
                f"submit: {result.submit_statements} statements",
            )
            step("questions", f"item analysis over {questions.ITEM_ANSWERS:,} answers")
            items = guarded(results, "item analysis", questions.measure_items, prep, result)
            if items:
                step(
                    "questions",
                    f"item analysis: {items.item_answers:,} answers, "
                    f"median {items.item_median_ms:.0f} ms, {items.item_queries} queries",
                )


def _pages(results, plan) -> None:
    step("pages", f"building {pages.ENGINEERS} engineers x {pages.SKILLS} skills")
    prep = guarded(results, "pages data", pages.prepare)
    if prep:
        results["pages"] = guarded(results, "pages", pages.measure, prep, plan["page_renders"])
        for page in results.get("pages") or []:
            step("pages", f"{page.name}: {page.gap or f'{page.median_ms:.1f} ms'}")


def _sync(results, plan, env, workdir: Path) -> None:
    size = plan["sync_size"]
    step("sync", f"{size:,} new engineers through the bulk endpoint, backlog by a worker")
    prep = guarded(results, "sync data", sync.prepare)
    if prep:
        result = guarded(
            results,
            "sync",
            sync.measure,
            size=size,
            prep=prep,
            env=env,
            logs=workdir,
            home_queue=HOME_QUEUE,
        )
        if result:
            results["sync"] = result
            step(
                "sync",
                f"{size:,} in {result.calls} calls: {result.posts_s:.1f} s posting, "
                f"{result.total_s:.1f} s until every backlog was assigned",
            )
        results["scim_sync"] = []
        scim_size = plan["scim_sync_size"]
        for rate in (sync.SCIM_RATE, None):
            pace = f"{rate:.0f}/s" if rate else "as fast as answered"
            step("sync", f"{scim_size:,} new users POSTed to SCIM one by one, {pace}")
            scim_result = guarded(
                results,
                f"scim sync {pace}",
                sync.measure_scim,
                size=scim_size,
                rate=rate,
                prep=prep,
                env=env,
                logs=workdir,
                home_queue=HOME_QUEUE,
            )
            if scim_result:
                results["scim_sync"].append(scim_result)
                step(
                    "sync",
                    f"SCIM {pace}: {scim_result.achieved_rate:.1f} POST/s, median "
                    f"{scim_result.median_ms:.1f} ms (p95 {scim_result.p95_ms:.1f} ms), last "
                    f"backlog {scim_result.backlog_lag_s:.1f} s after the last POST",
                )


def _playbooks(results, plan) -> None:
    step("playbooks", f"building {playbooks.COUNT:,} playbooks (English and Chinese)")
    results["playbooks_count"] = guarded(results, "playbooks data", playbooks.prepare)
    if results["playbooks_count"]:
        found = guarded(results, "playbooks", playbooks.measure, plan["playbook_searches"])
        results["playbooks"] = found
        for item in found or []:
            step("playbooks", f"“{item.query}”: {item.matches:,} matches, {item.median_ms:.1f} ms")


def _http(results, plan, env, token, workdir: Path, releases) -> None:
    step("http", f"{plan['quiz_attempts']:,} open quiz attempts with signed-in sessions")
    quiz = load.prepare_quiz(plan["quiz_attempts"], workdir)
    data.analyze()
    server = Gunicorn(env, workers=2, log=workdir / "gunicorn.log")
    seconds = plan["wrk_seconds"]
    log = workdir / "wrk.log"
    auth = {"Authorization": f"Bearer {token}"}
    try:
        # Warm both workers (imports, URL resolver, connections) before measuring.
        load.wrk("warm-up", server.base, "/bench/ping", seconds=2, log=log)
        load.check_quiz_submission(server.port, quiz["first"], quiz["quiz"])
        step("http", f"wrk {seconds}s each: trivial view, readiness, quiz submission")
        ping = load.wrk("trivial view", server.base, "/bench/ping", seconds=seconds, log=log)
        runs = [ping]
        for size, release in releases:
            path = f"/api/v1/releases/{release.sdk.slug}/{release.version}/readiness/"
            load.wrk("warm-up", server.base, path, seconds=1, headers=auth, log=log)
            runs.append(
                load.wrk(
                    f"readiness, {size:,} assignments",
                    server.base,
                    path,
                    seconds=seconds,
                    headers=auth,
                    log=log,
                )
            )
        before = load.quiz_graded(quiz["quiz"])
        threads = 2
        submit = load.wrk(
            "quiz submission (POST, graded)",
            server.base,
            "/attempts/",
            seconds=seconds,
            threads=threads,
            script=load.WRK_DIR / "quiz_submit.lua",
            script_args=[str(quiz["items"]), str(threads)],
            log=log,
        )
        # wrk counts the responses it read; a request still in flight when it stops
        # may have graded its attempt too.
        graded = min(load.quiz_graded(quiz["quiz"]) - before, submit.requests)
        submit.note = f"{graded:,} of {submit.requests:,} requests graded a fresh attempt" + (
            f"; the other {submit.requests - graded:,} re-posted a graded attempt "
            "(the idempotent redirect)"
            if submit.requests > graded
            else ""
        )
        runs.append(submit)
        for run in runs:
            run.ratio = run.rps / ping.rps if ping.rps else None
            step("http", f"{run.name}: {run.rps:.0f} req/s, p50 {run.p50_ms:.1f} ms")
        results["http"] = runs
    finally:
        server.stop()


def cleanup() -> None:
    """Purge what the run queued in its Redis database: its home queue, and the
    default queue gunicorn's workers send to."""
    for queue in (HOME_QUEUE, "celery"):
        fanout.purge(queue)
    # Kombu leaves a binding key per queue declared; the run's queues are gone now.
    import redis
    from django.conf import settings

    client = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    for key in client.scan_iter("_kombu.binding.preflight-bench-*"):
        client.delete(key)
