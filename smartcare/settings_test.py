"""Settings for pytest: the normal settings in the ``test`` profile, plus speed-ups."""

import os

os.environ.setdefault("DJANGO_ENV", "test")
os.environ.setdefault("EMAIL_URL", "memorymail://")

from .settings import *  # noqa: E402,F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
CELERY_TASK_ALWAYS_EAGER = True
CELERY_TASK_EAGER_PROPAGATES = True
# The identity cache on, in this process's memory (the test process is the only one serving
# requests), whether or not REDIS_URL is set: no entry outlives the run or reaches another one.
IDENTITY_CACHE = {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "identity"}
CACHES = {**CACHES, "identity": IDENTITY_CACHE}  # noqa: F405
IDENTITY_CACHE_SECONDS = 60
# Sessions in the database whether or not REDIS_URL is set (with Redis the portal reads them
# through the cache, ``cached_db``): the query-count tests then count the same in every run.
SESSION_ENGINE = "django.contrib.sessions.backends.db"
