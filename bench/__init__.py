"""Preflight's benchmark suite: `python -m bench.run [--quick]` (or `make bench`).

Needs PostgreSQL and Redis; builds its own database (`preflight_bench`) and uses
its own Redis database (3) and queue, so it never touches anyone else's data.
"""
