"""``make bench``: SmartCare's reads and writes measured through HTTP at region scale.

The region is generated once into a database of its own (``generate_region``, with care plans and
messages); the portal runs under gunicorn like production (2 sync workers, DEBUG off, the
production settings with throwaway secrets) beside a bare Django app over the same tables that does
the CPR lookup and the citizen by id in raw SQL (``ceiling``: no ORM, no authentication, no access
log). wrk drives both, for each read and each kind of organisation, and the run prints req/s, p50,
p95, the ratio to the ceiling, the queries per request, the web workers' memory and EXPLAIN of each
case's slowest statement. It asserts nothing about timings. ``BENCH_CASES=writes`` runs the write
path instead (``writes``).

Everything the run is told comes from ``BENCH_*`` environment variables (``config``); the Makefile
lists them. Only the measuring happens over HTTP, so the harness keeps working whatever the access
gate and the access log look like inside.
"""
