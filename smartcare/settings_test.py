"""Settings for pytest: the normal settings in the ``test`` profile, plus speed-ups."""

import os

os.environ.setdefault("DJANGO_ENV", "test")
os.environ.setdefault("EMAIL_URL", "memorymail://")

from .settings import *  # noqa: E402,F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
CELERY_TASK_ALWAYS_EAGER = True
CELERY_TASK_EAGER_PROPAGATES = True
