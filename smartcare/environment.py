"""Reading settings from the environment without guessing.

django-environ reads any unknown word as false (``MFA_REQUIRED_FOR_ADMINS=ture`` silently turns MFA
off) and lets ``int("abc")`` fail with a message that does not say which variable was wrong. The
settings use ``StrictEnv`` instead, so a mistyped value stops the process at start-up and the
message names the variable and what it accepts.
"""

from __future__ import annotations

import re
import warnings

import environ
from django.core.exceptions import ImproperlyConfigured

TRUE_WORDS = ("true", "yes", "on", "1")
FALSE_WORDS = ("false", "no", "off", "0")


class StrictEnv(environ.Env):
    def _raw(self, var: str) -> str | None:
        return self.ENVIRON.get(f"{self.prefix}{var}")

    def bool(self, var, default=environ.Env.NOTSET):
        raw = self._raw(var)
        if raw is None:
            return super().bool(var, default=default)  # the default, or "Set the ... variable"
        word = raw.strip().lower()
        if word in TRUE_WORDS:
            return True
        if word in FALSE_WORDS:
            return False
        accepted = ", ".join(f"{yes}/{no}" for yes, no in zip(TRUE_WORDS, FALSE_WORDS, strict=True))
        raise ImproperlyConfigured(f"{var} must be one of {accepted} (any case), not {raw!r}")

    def int(self, var, default=environ.Env.NOTSET):
        try:
            return super().int(var, default=default)
        except ValueError:
            raise ImproperlyConfigured(f"{var} must be a whole number, not {self._raw(var)!r}") from None

    def float(self, var, default=environ.Env.NOTSET):
        try:
            return super().float(var, default=default)
        except ValueError:
            raise ImproperlyConfigured(f"{var} must be a number, not {self._raw(var)!r}") from None

    def db_list(self, var: str) -> list[dict]:
        """Comma-separated database URLs, each read like ``DATABASE_URL``; unset or empty: none.

        django-environ turns a mistyped scheme into an unknown engine and a URL without ``://``
        into an empty configuration, which would only fail at the first query, on the first
        request that happens to use it. The message names the URL by its position and scheme,
        never by its text, which carries a password.
        """
        raw = self._raw(var) or ""
        if not raw.strip():
            return []
        return [self._db_url(var, number, url.strip()) for number, url in enumerate(raw.split(","), start=1)]

    def _db_url(self, var: str, number: int, url: str) -> dict:
        scheme = url.partition("://")[0] if "://" in url else ""
        if not url:
            problem = "is empty"
        elif scheme not in self.DB_SCHEMES:
            named = f" ({scheme!r})" if re.fullmatch(r"[a-z][a-z0-9+._-]{0,30}", scheme) else ""
            problem = f"does not start with a database scheme{named}"
        else:
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    config = self.db_url_config(url)
            except ValueError:
                problem = "has a port that is not a number"
            else:
                if config.get("NAME"):
                    return config
                problem = "names no database"
        raise ImproperlyConfigured(
            f"{var} must be comma-separated database URLs such as "
            f"postgres://user:password@host:5432/smartcare, but URL {number} {problem}"
        )
