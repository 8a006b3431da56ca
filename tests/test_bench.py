"""The benchmark harness's pure parts (``scripts/bench``): wrk's Lua script and output, the cases,
the printed table and the write path's plan. The runs themselves need wrk, gunicorn and a
generated region (``make bench``); CI covers what decides their numbers' meaning."""

from __future__ import annotations

import math
from types import SimpleNamespace

import pytest

from scripts.bench import wrk
from scripts.bench.cases import ANONYMOUS, CEILING_CPR, CEILING_ID, SESSION, TOKEN, Identity, Side, read_cases, selected
from scripts.bench.config import Config
from scripts.bench.report import (
    Row,
    format_markdown,
    format_memory,
    format_peer,
    format_plans,
    format_table,
    ratio,
)
from scripts.bench.writes import deadlock_lines, percentile, plan

WRK_OUTPUT = """Running 5s test @ http://127.0.0.1:8765
  1 threads and 8 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency    12.31ms    3.02ms  41.20ms   80.11%
    Req/Sec   650.12     40.10   720.00     70.00%
  3251 requests in 5.01s, 2.10MB read
  Non-2xx or 3xx responses: 3
Requests/sec:    648.90
Transfer/sec:    428.21KB
BENCH_RESULT requests=3251 duration_us=5010000 p50_us=11800 p95_us=17250 p99_us=25000 status=3 \
connect=0 read=1 write=0 timeout=2
"""


def test_the_result_line_gives_the_rate_and_exact_percentiles():
    result = wrk.parse_output(WRK_OUTPUT)
    assert result.requests == 3251
    assert result.rps == pytest.approx(3251 / 5.01)
    assert (result.p50_ms, result.p95_ms, result.p99_ms) == (11.8, 17.25, 25.0)
    assert (result.non_2xx, result.socket_errors) == (3, 3)


def test_without_the_result_line_wrk_s_summary_still_gives_the_rate():
    summary = WRK_OUTPUT.split("BENCH_RESULT")[0]
    result = wrk.parse_output(summary)
    assert result.rps == 649
    assert result.non_2xx == 3
    assert math.isnan(result.p95_ms)
    with pytest.raises(ValueError, match="no result"):
        wrk.parse_output("unable to connect to 127.0.0.1:8765 Connection refused")


def test_the_lua_script_sends_each_path_with_the_next_identity():
    script = wrk.lua_script(
        ["/api/v1/citizens/?search=0101019901", '/odd/"path"'],
        [{"Authorization": "Token abc", "X-Acting-Organisation": "7"}, {"Cookie": "__Host-sessionid=xyz"}],
    )
    assert '"/api/v1/citizens/?search=0101019901",' in script
    assert r'"/odd/\"path\""' in script  # quoted for Lua
    assert '["Authorization"] = "Token abc"' in script
    assert '["Cookie"] = "__Host-sessionid=xyz"' in script
    assert script.count('["X-Forwarded-Proto"] = "https"') == 2  # as if through the TLS proxy
    assert "paths[(n - 1) % #paths + 1]" in script
    assert "identities[(n - 1) % #identities + 1]" in script
    assert "latency:percentile(95)" in script and wrk.RESULT_MARK in script
    with pytest.raises(ValueError):
        wrk.lua_script([], [])


def test_the_wrk_command_uses_one_thread_and_the_connections_asked_for():
    command = wrk.wrk_command("http://127.0.0.1:1", "case.lua", seconds=20, connections=8)
    assert command[:4] == ["wrk", "-t1", "-c8", "-d20s"]
    assert command[-3:] == ["-s", "case.lua", "http://127.0.0.1:1"]


def _side(kind: str, pk: int) -> Side:
    return Side(
        kind=kind,
        organisation=SimpleNamespace(pk=pk, name=kind),
        identities=[Identity(1, f"token-{kind}", f"session-{kind}")],
        citizens=[(f"id-{kind}", f"cpr-{kind}")],
        plans=[f"plan-{kind}"] if kind != "department" else [],
        measured=[f"id-{kind}"],
        series=[(f"id-{kind}", "85354-9")],
    )


def test_every_read_is_made_for_every_kind_of_organisation_after_the_ceiling():
    sides = [_side("gp", 1), _side("municipality", 2), _side("department", 3)]
    cases = read_cases(sides, "__Host-sessionid")
    assert [c.key for c in cases[:2]] == [CEILING_CPR, CEILING_ID]
    assert all(c.on_ceiling and c.auth == ANONYMOUS for c in cases[:2])
    assert cases[0].paths == ["/cpr/cpr-gp/", "/cpr/cpr-municipality/", "/cpr/cpr-department/"]
    names = [c.name for c in cases]
    for kind in ("gp", "municipality", "department"):
        for key in ("api-search", "api-citizen", "api-plan", "api-observations", "page-citizen", "page-inbox"):
            assert f"{key}:{kind}" in names
    assert names[-2:] == ["api-me:gp", "health"]
    search = next(c for c in cases if c.name == "api-search:municipality")
    assert search.paths == ["/api/v1/citizens/?search=cpr-municipality"]
    assert search.headers == [{"Authorization": "Token token-municipality", "X-Acting-Organisation": "2"}]
    assert search.ceiling == CEILING_CPR and search.auth == TOKEN
    page = next(c for c in cases if c.name == "page-citizen:gp")
    assert page.auth == SESSION and page.headers == [{"Cookie": "__Host-sessionid=session-gp"}]
    assert next(c for c in cases if c.name == "api-plan:department").paths == []  # reported, not run


def test_the_fhir_cases_read_by_identifier_id_patient_and_code():
    cases = {c.name: c for c in read_cases([_side("gp", 1)], "sessionid")}
    assert cases["fhir-patient-search:gp"].paths == ["/fhir/Patient?identifier=urn:oid:1.2.208.176.1.2%7Ccpr-gp"]
    assert cases["fhir-patient:gp"].paths == ["/fhir/Patient/id-gp"]
    assert cases["fhir-careplans:gp"].paths == ["/fhir/CarePlan?patient=id-gp"]
    assert cases["fhir-observations:gp"].paths == [
        "/fhir/Observation?patient=id-gp&code=http://loinc.org%7C85354-9&_sort=-date&_count=10"
    ]
    assert all(cases[name].auth == TOKEN for name in cases if name.startswith("fhir-"))


def test_cases_are_chosen_by_name_or_beginning_and_the_ceiling_always_runs():
    cases = read_cases([_side("gp", 1), _side("municipality", 2)], "sessionid")
    assert selected(cases, "reads") == cases
    chosen = [c.name for c in selected(cases, "api-search, page-inbox:gp")]
    assert chosen == [CEILING_CPR, CEILING_ID, "api-search:gp", "page-inbox:gp", "api-search:municipality"]
    assert [c.name for c in selected(cases, "page-:municipality")][2:] == [
        c.name for c in cases if c.key.startswith("page-") and c.side and c.side.kind == "municipality"
    ]


def test_the_table_shows_every_column_and_says_why_a_case_did_not_run():
    rows = [
        Row("ceiling-cpr", "ceiling: CPR lookup", rps=2628.4, p50_ms=2.9, p95_ms=4.1),
        Row(
            "api-search:gp",
            "API: search by CPR",
            "GP clinic",
            rps=92.0,
            p50_ms=80.0,
            p95_ms=110.0,
            ratio=ratio(92.0, 2628.4),
            queries=14,
            status=200,
            errors=0,
        ),  # fmt: skip
        Row("api-plan:department", "API: care plan detail", "OUH department", note="nothing to read at this size"),
    ]
    table = format_table(rows)
    header, rule, *lines = table.splitlines()
    for column in ("req/s", "p50 ms", "p95 ms", "ceiling", "queries", "status", "errors"):
        assert column in header
    assert len(rule) == len(header)
    assert "2,628.4" in lines[0]
    assert "3.5 %" in lines[1] and " 14 " in lines[1] and "200" in lines[1]
    assert lines[2].endswith("(nothing to read at this size)")
    markdown = format_markdown(rows).splitlines()
    assert markdown[0].startswith("| case | read |") and len(markdown) == 4


def test_ratio_memory_and_plans():
    assert ratio(100, 400) == 0.25
    assert ratio(100, None) is None and ratio(math.nan, 10) is None
    assert format_memory([120.4, 139.6]) == "web workers' memory (RSS after the run): 120 MB, 140 MB; largest 140 MB"
    slow = Row("a", "A", "GP clinic", slowest_sql="SELECT 1", slowest_ms=2.5, plan=["Result"])
    plans = format_plans([slow, Row("b", "B")])
    assert plans == "=== a (GP clinic): slowest statement, 2.5 ms ===\nSELECT 1\nResult"


def test_the_write_plan_spreads_admissions_discharges_and_care_messages_at_their_rates():
    config = Config(write_seconds=10, hospital_events_per_second=50, care_messages_per_second=10)
    events = plan(config)
    kinds = [what for _, what, _ in events]
    assert kinds.count("admit") == 250
    assert kinds.count("discharge") == 125  # those admitted early enough to be discharged within the run
    assert kinds.count("care") == 100
    assert events == sorted(events)
    admit = {index: at for at, what, index in events if what == "admit"}
    assert all(at > admit[index] for at, what, index in events if what == "discharge")


def test_deadlocks_are_counted_for_the_benchmark_s_database():
    log = (
        "2026-01-01 10:00:00 UTC [12] postgres@smartcare_bench ERROR:  deadlock detected\n"
        "2026-01-01 10:00:01 UTC [13] postgres@test ERROR:  deadlock detected\n"
        "2026-01-01 10:00:02 UTC [12] postgres@smartcare_bench DETAIL:  Process 12 waits for ShareLock\n"
    )
    assert deadlock_lines(log, "smartcare_bench") == 1
    assert deadlock_lines("ERROR:  deadlock detected\nERROR:  deadlock detected\n", "x") == 2
    assert percentile([1.0, 2.0, 3.0, 4.0], 50) == 2.5
    assert math.isnan(percentile([], 95))


def test_the_portal_runs_on_the_production_settings_with_throwaway_secrets(monkeypatch):
    monkeypatch.setenv("BENCH_CITIZENS", "20000")
    monkeypatch.setenv("BENCH_HOSPITAL_EVENTS_PER_SECOND", "12.5")
    monkeypatch.setenv("BENCH_SECONDS", "")  # empty keeps the default
    monkeypatch.setenv("BENCH_SECRET_KEY", "never from the environment")
    monkeypatch.setenv("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/elsewhere")
    config = Config.from_environment()
    assert (config.citizens, config.hospital_events_per_second, config.seconds) == (20000, 12.5, 20)
    env = config.production_environment()
    assert env["DJANGO_ENV"] == "production" and env["DATABASE_URL"].endswith("/elsewhere")
    assert len(env["SECRET_KEY"]) > 40 and env["SECRET_KEY"] != Config().secret_key
    assert config.development_environment()["DJANGO_ENV"] == "development"


def test_the_fhir_cases_are_compared_with_the_peer_measured_on_this_machine():
    rows = [
        Row("fhir-patient-search:gp", "FHIR: Patient by identifier", "GP clinic", rps=470.0),
        Row("fhir-patient:department", "FHIR: Patient read", "OUH department", rps=1202.0),
        Row("fhir-careplans:gp", "FHIR: CarePlan by patient", "GP clinic", rps=800.0),
        Row("api-search:gp", "API: search by CPR", "GP clinic", rps=300.0),
    ]
    assert format_peer(rows).splitlines() == [
        "Compared with Medplum 5.0.10 on this machine:",
        "FHIR: Patient by identifier (GP clinic): 470.0 req/s, 0.50 × Medplum 5.0.10 (940 req/s)",
        "FHIR: Patient read (OUH department): 1,202.0 req/s, 1.00 × Medplum 5.0.10 (1,202 req/s)",
    ]
    assert format_peer(rows[2:]) == ""
