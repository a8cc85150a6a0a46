"""Run the benchmark suite and write docs/benchmarks.md.

    python -m bench.run            # the full suite (make bench)
    python -m bench.run --quick    # small sizes, short loads: a smoke test of the harness

Needs PostgreSQL and Redis (exit 2 with a message otherwise). BENCH_DATABASE_URL
(default postgres://postgres@127.0.0.1:5432/preflight_bench) is dropped and
recreated, then migrated; BENCH_BROKER_URL (default redis://127.0.0.1:6379/3) is
the broker, on queues of the run's own. Every loop is bounded in count and time;
all traffic stays on the loopback interface.
"""

import argparse
import os
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from bench import infra
from bench.infra import step

FULL = {
    "fanout_sizes": [20_000, 100_000],
    "readiness_sizes": [1_000],  # plus the largest fan-out release
    "readiness_calls": 50,
    "page_renders": 30,
    "wrk_seconds": 15,
    "quiz_attempts": 8_000,
    "coverage_engineers": 5_000,
    "coverage_calls": 50,
    "sync_size": 20_000,
    "scim_sync_size": 2_000,
    "playbook_searches": 50,
}
QUICK = {
    "fanout_sizes": [2_000, 10_000],
    "readiness_sizes": [1_000],
    "readiness_calls": 10,
    "page_renders": 5,
    "wrk_seconds": 3,
    "quiz_attempts": 1_500,
    "coverage_engineers": 5_000,
    "coverage_calls": 10,
    "sync_size": 2_000,
    "scim_sync_size": 200,
    "playbook_searches": 10,
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="small sizes: check the harness")
    parser.add_argument(
        "--output",
        type=Path,
        help="report path (default docs/benchmarks.md; with --quick, a temporary file)",
    )
    parser.add_argument(
        "--only",
        default="scim,fanout,readiness,coverage,pages,questions,content,playbooks,http,sync",
        help="comma-separated sections to run (default: all): scim, fanout, readiness, "
        "coverage, pages, questions, content, playbooks, http, sync",
    )
    args = parser.parse_args(argv)
    sections = {name.strip() for name in args.only.split(",") if name.strip()}
    known = {
        "scim",
        "fanout",
        "readiness",
        "coverage",
        "pages",
        "questions",
        "content",
        "playbooks",
        "http",
        "sync",
    }
    unknown = sections - known
    if unknown:
        parser.error(f"unknown sections: {', '.join(sorted(unknown))}")
    plan = QUICK if args.quick else FULL
    output = args.output or (
        Path(tempfile.gettempdir()) / "preflight-benchmarks-quick.md"
        if args.quick
        else infra.ROOT / "docs" / "benchmarks.md"
    )

    try:
        database_url, broker_url = infra.urls()
        versions = infra.check_services(database_url, broker_url)
    except infra.Missing as exc:
        print(f"bench: cannot run: {exc}", file=sys.stderr)
        print(
            "bench: needs PostgreSQL and Redis; set BENCH_DATABASE_URL and BENCH_BROKER_URL "
            "if they are not on 127.0.0.1 (see docs/benchmarks.md).",
            file=sys.stderr,
        )
        return 2

    workdir = Path(tempfile.mkdtemp(prefix="preflight-bench-"))
    static_root = workdir / "static"
    env = infra.child_env(database_url, broker_url, str(static_root))
    print(f"bench: logs and scratch files in {workdir}", flush=True)
    started = time.monotonic()
    results: dict = {
        "mode": "quick" if args.quick else "full",
        "sections": sorted(sections),
        "plan": plan,
        "machine": infra.machine(versions),
        "started_at": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "errors": {},
    }

    step("database", f"recreating {database_url.rsplit('/', 1)[-1]} and migrating")
    infra.recreate_database(database_url)
    infra.manage(env, "migrate", "--noinput")
    infra.manage(env, "collectstatic", "--noinput")

    # This process serves the in-process measurements with the same settings.
    os.environ.update({k: v for k, v in env.items() if k != "LOG_LEVEL"})
    os.environ["LOG_LEVEL"] = "WARNING"
    import django

    django.setup()
    from bench import suite

    try:
        suite.run(
            results,
            plan=plan,
            sections=sections,
            env=env,
            database_url=database_url,
            workdir=workdir,
        )
    finally:
        suite.cleanup()
    results["duration_s"] = time.monotonic() - started
    results["machine"]["load_after"] = " ".join(f"{x:.2f}" for x in os.getloadavg())

    from bench import report

    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(report.render(results))
    print(f"bench: wrote {output} in {results['duration_s']:.0f}s", flush=True)
    for section, error in results["errors"].items():
        print(f"bench: {section} FAILED: {error.splitlines()[-1]}", file=sys.stderr)
    return 1 if results["errors"] else 0


if __name__ == "__main__":
    sys.exit(main())
