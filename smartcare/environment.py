"""Reading settings from the environment without guessing.

django-environ reads any unknown word as false (``MFA_REQUIRED_FOR_ADMINS=ture`` silently turns MFA
off) and lets ``int("abc")`` fail with a message that does not say which variable was wrong. The
settings use ``StrictEnv`` instead, so a mistyped value stops the process at start-up and the
message names the variable and what it accepts.
"""

from __future__ import annotations

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
