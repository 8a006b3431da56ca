"""wrk, the load generator: the Lua script of a case, running it, and reading its output.

The script sends the case's paths in turn, each with the next identity's headers (an API token or a
session cookie), so the requests vary the citizen read and the user reading it; its ``done``
callback prints one machine-readable line with the exact percentiles (wrk's own summary has no
p95). Everything but ``wrk_run`` is pure, for the tests."""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

RESULT_MARK = "BENCH_RESULT"
# Every request comes as if through the TLS-terminating proxy production runs behind.
COMMON_HEADERS = {"X-Forwarded-Proto": "https"}


@dataclass(frozen=True)
class WrkResult:
    requests: int
    seconds: float
    p50_ms: float
    p95_ms: float
    p99_ms: float
    non_2xx: int = 0  # non-2xx or 3xx answers
    socket_errors: int = 0  # connect, read, write errors and timeouts

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


def _lua_string(value: str) -> str:
    escaped = value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\r", "\\r")
    return f'"{escaped}"'


def _lua_table(headers: Mapping[str, str]) -> str:
    return "{" + ", ".join(f"[{_lua_string(k)}] = {_lua_string(v)}" for k, v in headers.items()) + "}"


def lua_script(paths: Sequence[str], identities: Sequence[Mapping[str, str]], method: str = "GET") -> str:
    """A wrk script sending ``paths`` in turn, each with the next of ``identities`` (header sets)."""
    if not paths:
        raise ValueError("A case needs at least one path.")
    identities = list(identities) or [{}]
    lines = [
        "-- Written by scripts/bench/wrk.py for one case of `make bench`.",
        "local paths = {",
        *[f"  {_lua_string(p)}," for p in paths],
        "}",
        "local identities = {",
        *[f"  {_lua_table({**COMMON_HEADERS, **headers})}," for headers in identities],
        "}",
        "local n = 0",
        "request = function()",
        "  n = n + 1",
        "  local path = paths[(n - 1) % #paths + 1]",
        "  local headers = identities[(n - 1) % #identities + 1]",
        f"  return wrk.format({_lua_string(method)}, path, headers)",
        "end",
        "done = function(summary, latency, requests)",
        "  local e = summary.errors",
        "  io.write(string.format(",
        f'    "{RESULT_MARK} requests=%d duration_us=%d p50_us=%d p95_us=%d p99_us=%d '
        'status=%d connect=%d read=%d write=%d timeout=%d\\n",',
        "    summary.requests, summary.duration, latency:percentile(50), latency:percentile(95),",
        "    latency:percentile(99), e.status, e.connect, e.read, e.write, e.timeout))",
        "end",
        "",
    ]
    return "\n".join(lines)


_RESULT = re.compile(RESULT_MARK + r"((?:\s+\w+=\d+)+)")
_RPS = re.compile(r"Requests/sec:\s+([\d.]+)")
_NON_2XX = re.compile(r"Non-2xx or 3xx responses:\s+(\d+)")


def parse_output(output: str) -> WrkResult:
    """The result line the script's ``done`` printed; wrk's summary as a fallback (no percentiles)."""
    found = _RESULT.search(output)
    if found:
        values = dict(pair.split("=") for pair in found.group(1).split())
        numbers = {key: int(value) for key, value in values.items()}
        return WrkResult(
            requests=numbers["requests"],
            seconds=numbers["duration_us"] / 1e6,
            p50_ms=numbers["p50_us"] / 1000,
            p95_ms=numbers["p95_us"] / 1000,
            p99_ms=numbers["p99_us"] / 1000,
            non_2xx=numbers["status"],
            socket_errors=numbers["connect"] + numbers["read"] + numbers["write"] + numbers["timeout"],
        )
    rps = _RPS.search(output)
    if rps is None:
        raise ValueError(f"wrk printed no result:\n{output}")
    non_2xx = _NON_2XX.search(output)
    return WrkResult(
        requests=round(float(rps.group(1))),
        seconds=1.0,
        p50_ms=float("nan"),
        p95_ms=float("nan"),
        p99_ms=float("nan"),
        non_2xx=int(non_2xx.group(1)) if non_2xx else 0,
    )


def wrk_command(url: str, script: Path, *, seconds: int, connections: int, threads: int = 1) -> list[str]:
    return [
        "wrk",
        f"-t{threads}",
        f"-c{connections}",
        f"-d{seconds}s",
        "--timeout=10s",
        "-s",
        str(script),
        url,
    ]


def wrk_start(
    url: str,
    paths: Sequence[str],
    identities: Sequence[Mapping[str, str]],
    *,
    seconds: int,
    connections: int,
    threads: int = 1,
) -> subprocess.Popen:
    """wrk in the background (the write path's readers); ``wrk_finish`` reads its result."""
    if shutil.which("wrk") is None:
        raise RuntimeError("wrk is not installed: apt-get install wrk (make bench installs it when run as root)")
    script = Path(tempfile.mkstemp(prefix="bench-", suffix=".lua")[1])
    script.write_text(lua_script(paths, identities), encoding="utf-8")
    command = wrk_command(url, script, seconds=seconds, connections=connections, threads=threads)
    return subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)  # noqa: S603


def wrk_finish(process: subprocess.Popen) -> WrkResult:
    output, _ = process.communicate()
    script = Path(process.args[-2])  # type: ignore[index]
    script.unlink(missing_ok=True)
    return parse_output(output)


def wrk_run(url: str, paths, identities, *, seconds: int, connections: int, threads: int = 1) -> WrkResult:
    process = wrk_start(url, paths, identities, seconds=seconds, connections=connections, threads=threads)
    return wrk_finish(process)
