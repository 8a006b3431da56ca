"""gunicorn's access log (gunicorn.conf.py) never writes a query string: CPR numbers travel in
the queries of searches and of ``/launch?cpr=``."""

import runpy
import subprocess
import sys
from datetime import timedelta
from pathlib import Path
from types import SimpleNamespace

from gunicorn.config import Config
from gunicorn.glogging import Logger

BASE_DIR = Path(__file__).resolve().parents[1]
CPR = "0101701234"


def _logged_line(tmp_path) -> str:
    settings = runpy.run_path(str(BASE_DIR / "gunicorn.conf.py"))
    config = Config()
    config.set("access_log_format", settings["access_log_format"])
    config.set("accesslog", str(tmp_path / "access.log"))
    logger = Logger(config)
    request = SimpleNamespace(
        method="GET", path="/launch", query=f"cpr={CPR}", uri=f"/launch?cpr={CPR}", version=(1, 1), headers=[]
    )
    environ = {
        "REQUEST_METHOD": "GET",
        "RAW_URI": f"/launch?cpr={CPR}",
        "PATH_INFO": "/launch",
        "QUERY_STRING": f"cpr={CPR}",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
        "HTTP_REFERER": f"https://portal.example/citizens/?q={CPR}",
        "HTTP_USER_AGENT": "EPJ",
    }
    response = SimpleNamespace(status="302 Found", response_length=0, sent=0, headers=[])
    logger.access(response, request, environ, timedelta(milliseconds=3))
    for handler in logger.access_log.handlers:
        handler.flush()
    return (tmp_path / "access.log").read_text()


def test_the_access_log_names_the_path_but_never_the_query_or_referer(tmp_path):
    line = _logged_line(tmp_path)
    assert "GET /launch HTTP/1.1" in line and "302" in line
    assert CPR not in line


def test_production_processes_start_gunicorn_with_this_config():
    for name in ("Dockerfile", "docker-compose.yml"):
        text = (BASE_DIR / name).read_text()
        assert '"--config", "gunicorn.conf.py"' in text and "--access-logfile" not in text, name


def test_the_config_file_is_valid_for_gunicorn():
    result = subprocess.run(  # noqa: S603 - a fixed command line
        [
            sys.executable,
            "-m",
            "gunicorn",
            "--check-config",
            "--config",
            "gunicorn.conf.py",
            "smartcare.wsgi:application",
        ],
        cwd=BASE_DIR,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
