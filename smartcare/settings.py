"""SmartCare settings, read from the environment (12-factor).

``DJANGO_ENV`` selects the profile: ``development`` (default, zero-setup demo on SQLite and a
file-system broker), ``test`` (used by pytest) or ``production`` (secrets are required and the
process refuses to start without them, so a misconfigured deployment fails loudly instead of
running with a development key).
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from celery.schedules import crontab
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from smartcare.environment import StrictEnv

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"

# Booleans accept only true/false, yes/no, on/off, 1/0, and a number that is not one stops start-up.
env = StrictEnv()

DJANGO_ENV = env.str("DJANGO_ENV", default="development")
if DJANGO_ENV not in {"development", "test", "production"}:
    raise ImproperlyConfigured(f"DJANGO_ENV must be development, test or production, not {DJANGO_ENV!r}")
IS_PRODUCTION = DJANGO_ENV == "production"

if IS_PRODUCTION:
    # No defaults: a production process without these must not start.
    SECRET_KEY = env.str("SECRET_KEY")
    ALLOWED_HOSTS = env.list("ALLOWED_HOSTS")
    if not ALLOWED_HOSTS:
        raise ImproperlyConfigured("Set the ALLOWED_HOSTS environment variable")
    DEBUG = env.bool("DEBUG", default=False)
else:
    SECRET_KEY = env.str("SECRET_KEY", default="django-insecure-development-only-key-not-for-production-use")
    ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]", "testserver"])
    # The demo runs like production (the portal's own error pages); DEBUG=true shows Django's debug pages.
    DEBUG = env.bool("DEBUG", default=False)

CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

# SAML 2.0 sign-in needs python3-saml and xmlsec (wheels for Linux and macOS; elsewhere the system's
# libxmlsec1): without them the portal runs with OpenID Connect only.
try:
    import onelogin.saml2.auth  # noqa: F401
    import xmlsec  # noqa: F401
except ImportError:  # pragma: no cover - depends on the machine
    SAML_APPS: list[str] = []
else:
    SAML_APPS = ["allauth.socialaccount.providers.saml"]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django.forms",
    # third party
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_celery_beat",
    "django_htmx",
    "csp",
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "allauth.socialaccount",
    "allauth.socialaccount.providers.openid_connect",
    *SAML_APPS,
    # SmartCare
    "sectors",
    "citizens",
    "careplans",
    "messaging",
    "smartcare.apps.SmartCareConfig",
]

MIDDLEWARE = [
    "smartcare.replicas.ReplicaMiddleware",  # before anything that reads the database
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "smartcare.session.SessionMiddleware",  # Django's, renewing the session at most once a minute
    "smartcare.middleware.DanishFirstLocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "smartcare.uploads.RequestBodyLimitMiddleware",  # before CSRF, which reads the form
    "django.middleware.csrf.CsrfViewMiddleware",
    "sectors.middleware.AuthenticationMiddleware",  # Django's, with the user from the identity cache
    "smartcare.middleware.NoStoreMiddleware",
    "smartcare.middleware.MessageMiddleware",  # skips token requests, as does CSPMiddleware
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "smartcare.middleware.CSPMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "smartcare.middleware.HtmxLoginRedirectMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "sectors.middleware.ActingOrganisationMiddleware",
    "sectors.middleware.MFARequiredMiddleware",
    "smartcare.middleware.BusyDatabaseMiddleware",  # last: the first to see a view's exception
]

ROOT_URLCONF = "smartcare.urls"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "sectors.context_processors.acting_organisation",
                "careplans.context_processors.worklist_counts",
                "messaging.context_processors.message_counts",
                "smartcare.session.session_timeout",
            ],
        },
    },
]

FORM_RENDERER = "smartcare.forms.BootstrapFormRenderer"

WSGI_APPLICATION = "smartcare.wsgi.application"

# --- Database ---------------------------------------------------------------------------------
# SQLite is the zero-setup demo default only; DATABASE_URL points at PostgreSQL everywhere else.
if IS_PRODUCTION:
    DATABASES = {"default": env.db("DATABASE_URL")}
else:
    DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'smartcare.sqlite3'}")}
# Read-only replicas of the primary (streaming replication): the router in smartcare/replicas.py sends
# reads there that cannot notice their lag. Tests use the primary for them (MIRROR).
for _number, _replica in enumerate(env.db_list("DATABASE_REPLICA_URLS"), start=1):
    if _replica["ENGINE"] != DATABASES["default"]["ENGINE"]:
        raise ImproperlyConfigured("DATABASE_REPLICA_URLS must use the same database engine as DATABASE_URL")
    DATABASES[f"replica{_number}"] = {**_replica, "TEST": {"MIRROR": "default"}}
DATABASE_REPLICAS = [alias for alias in DATABASES if alias != "default"]
for _database in DATABASES.values():
    if _database["ENGINE"] == "django.db.backends.sqlite3":
        # Web, worker and beat write to one file: WAL and immediate transactions avoid "database is locked".
        _database.setdefault("OPTIONS", {}).update(
            {
                "timeout": 30,
                "transaction_mode": "IMMEDIATE",
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            }
        )
    else:
        # Short OLTP queries: JIT compilation costs more than it saves (measured at 1.2 M citizens).
        _database.setdefault("OPTIONS", {}).setdefault("options", "-c jit=off -c random_page_cost=1.1")
        _database.setdefault("CONN_MAX_AGE", env.int("CONN_MAX_AGE", default=60))
        _database.setdefault("CONN_HEALTH_CHECKS", True)
    _database["ATOMIC_REQUESTS"] = False
DATABASE_ROUTERS = ["smartcare.replicas.ReplicaRouter"]
# The hot reads' statements are prepared on the PostgreSQL server once per connection
# (smartcare/prepared.py). Turn off behind a pooler in transaction mode (PgBouncer), which hands one
# session's prepared statements to other clients.
DATABASE_SERVER_PREPARED = env.bool("DATABASE_SERVER_PREPARED", default=True)
# After a client wrote something, its reads stay on the primary this long, so it sees its own change.
DATABASE_REPLICA_STICKY_SECONDS = env.int("DATABASE_REPLICA_STICKY_SECONDS", default=5)
if DATABASE_REPLICA_STICKY_SECONDS < 0:
    raise ImproperlyConfigured("DATABASE_REPLICA_STICKY_SECONDS must be 0 or more")
# Read from and written to the primary only. Sessions (they hold the acting organisation) are written
# once a minute of activity and the access log on every logged read: neither write pins the user's other reads
# to the primary, and a replica could miss the row just written.
DATABASE_PRIMARY_MODELS = [
    "sessions.session",
    "citizens.accesslogentry",
    "citizens.accessloghead",
    "sectors.tokenscope",  # its last use is written once a minute by a token's reads
]
# A transaction the database aborted as a deadlock's victim or for a serialization conflict runs
# again, this many times in all, after short random pauses (smartcare.transactions).
TRANSACTION_RETRY_ATTEMPTS = env.int("TRANSACTION_RETRY_ATTEMPTS", default=4)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Broker and cache -------------------------------------------------------------------------
REDIS_URL = env.str("REDIS_URL") if IS_PRODUCTION else env.str("REDIS_URL", default="")
if REDIS_URL:
    CELERY_BROKER_URL = REDIS_URL
    CELERY_BROKER_TRANSPORT_OPTIONS: dict = {"visibility_timeout": 3600}
    CACHES = {
        "default": {
            "BACKEND": "smartcare.cache.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "smartcare",
        },
        "identity": {
            "BACKEND": "smartcare.cache.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "smartcare",
        },
    }
else:
    # A broker that needs no server process: messages are files in var/broker, shared by the
    # web process, the worker and beat, so tasks really run in the separate worker.
    BROKER_DIR = VAR_DIR / "broker"
    for _folder in ("queue", "control"):
        (BROKER_DIR / _folder).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_URL = "filesystem://"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(BROKER_DIR / "queue"),
        "data_folder_out": str(BROKER_DIR / "queue"),
        "control_folder": str(BROKER_DIR / "control"),
        "store_processed": False,
    }
    CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
        "identity": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "identity"},
    }
# The user, their memberships and the user a token names are cached this many seconds (sectors.identity):
# every process sees a change at its next request through the cache they share, so without Redis (one
# cache per process) the cache is off. 0 turns it off.
IDENTITY_CACHE_SECONDS = env.int("IDENTITY_CACHE_SECONDS", default=60 if REDIS_URL else 0)

CELERY_TIMEZONE = "Europe/Copenhagen"
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)
# No task runs for ever: at the soft limit SoftTimeLimitExceeded is raised inside the task (its
# transaction rolls back and the row waits for the sweeper or the next run), at the hard limit the
# worker process is killed. Batch jobs that are safe to resume get longer limits. All stay under
# the broker's visibility timeout, so a task still running is never handed to a second worker.
CELERY_TASK_SOFT_TIME_LIMIT = env.int("CELERY_TASK_SOFT_TIME_LIMIT", default=240)
CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", default=300)
CELERY_BATCH_TASK_SOFT_TIME_LIMIT = env.int("CELERY_BATCH_TASK_SOFT_TIME_LIMIT", default=1740)
CELERY_BATCH_TASK_TIME_LIMIT = env.int("CELERY_BATCH_TASK_TIME_LIMIT", default=1800)
for _soft, _hard in (
    ("CELERY_TASK_SOFT_TIME_LIMIT", "CELERY_TASK_TIME_LIMIT"),
    ("CELERY_BATCH_TASK_SOFT_TIME_LIMIT", "CELERY_BATCH_TASK_TIME_LIMIT"),
):
    if not 0 < vars()[_soft] < vars()[_hard] < 3600:
        raise ImproperlyConfigured(f"{_soft} must be above 0 and below {_hard}, and {_hard} below 3600 seconds")
CELERY_TASK_ANNOTATIONS = {
    task: {"soft_time_limit": CELERY_BATCH_TASK_SOFT_TIME_LIMIT, "time_limit": CELERY_BATCH_TASK_TIME_LIMIT}
    for task in (
        "careplans.tasks.missing_measurements_check_task",
        "messaging.tasks.digests_send_task",
        "sectors.tasks.sessions_clear_expired",
    )
}
# The access log: requests only insert entries; this beat task chains them (citizens.accesslog), at
# most SEAL_LIMIT entries per run in transactions of SEAL_BATCH, so an entry waits about SEAL_SECONDS.
ACCESS_LOG_SEAL_SECONDS = env.float("ACCESS_LOG_SEAL_SECONDS", default=5)
ACCESS_LOG_SEAL_BATCH = env.int("ACCESS_LOG_SEAL_BATCH", default=2000)
ACCESS_LOG_SEAL_LIMIT = env.int("ACCESS_LOG_SEAL_LIMIT", default=100_000)
# The sealer has a queue and a worker of its own (Procfile, docker-compose.yml: ``sealer``), so a
# backlog of deliveries on the default queue never holds it up. Every other task stays on ``celery``.
ACCESS_LOG_QUEUE = "access-log"
CELERY_TASK_ROUTES = {"citizens.tasks.access_log_seal_task": {"queue": ACCESS_LOG_QUEUE}}
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_BEAT_SCHEDULE = {
    "careplans-missing-measurements": {
        "task": "careplans.tasks.missing_measurements_check_task",
        "schedule": timedelta(minutes=15),
    },
    "careplans-handoffs-overdue": {
        "task": "careplans.tasks.handoffs_flag_overdue_task",
        "schedule": timedelta(minutes=30),
    },
    "messaging-deliveries-sweep": {
        "task": "messaging.tasks.deliveries_sweep_task",
        "schedule": timedelta(minutes=1),
    },
    "messaging-care-events": {
        "task": "messaging.tasks.care_events_dispatch_task",
        "schedule": timedelta(seconds=30),
    },
    "messaging-acknowledgements": {
        "task": "messaging.tasks.acknowledgements_check_task",
        "schedule": timedelta(minutes=5),
    },
    "messaging-escalate-unhandled": {
        "task": "messaging.tasks.unhandled_escalate_task",
        "schedule": timedelta(minutes=15),
    },
    "messaging-digests": {
        "task": "messaging.tasks.digests_send_task",
        "schedule": crontab(hour=7, minute=0),
    },
    "messaging-fhir-calls-prune": {
        "task": "messaging.tasks.fhir_calls_prune_task",
        "schedule": crontab(hour=3, minute=30),
    },
    "messaging-kept-uploads-sweep": {
        "task": "messaging.tasks.kept_uploads_sweep_task",
        "schedule": timedelta(minutes=30),
    },
    "citizens-access-log-seal": {
        "task": "citizens.tasks.access_log_seal_task",
        "schedule": timedelta(seconds=ACCESS_LOG_SEAL_SECONDS),
    },
    "sessions-clear-expired": {
        "task": "sectors.tasks.sessions_clear_expired",
        "schedule": timedelta(hours=1),
    },
}

# --- Authentication ---------------------------------------------------------------------------
AUTH_USER_MODEL = "sectors.User"
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 12}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "dashboard"
ACCOUNT_LOGOUT_REDIRECT_URL = "account_login"

ACCOUNT_ADAPTER = "sectors.adapters.StaffOnlyAccountAdapter"
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_EMAIL_VERIFICATION = "none"  # staff accounts are created by administrators
ACCOUNT_SESSION_REMEMBER = False
ACCOUNT_PREVENT_ENUMERATION = True
ACCOUNT_EMAIL_SUBJECT_PREFIX = "[SmartCare] "
# Sign-in limits. A hospital unit of thousands of staff can sit behind one address and sign in at
# shift change: the per-address limits are generous (and configurable); failures against one
# account stay strictly limited whatever the address. The client address comes from
# X-Forwarded-For only for the TRUSTED_PROXY_COUNT proxies in front of the portal, or from the
# header a trusted proxy sets (TRUSTED_CLIENT_IP_HEADER, e.g. X-Real-IP); otherwise the peer
# address. The rate limits and the access log use the same address (sectors.adapters.client_ip).
ALLAUTH_TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)
ALLAUTH_TRUSTED_CLIENT_IP_HEADER = env.str("TRUSTED_CLIENT_IP_HEADER", default="") or None
ACCOUNT_RATE_LIMITS = {
    "login": env.str("LOGIN_RATE_LIMIT", default="3000/5m/ip"),
    "login_failed": env.str("LOGIN_FAILED_RATE_LIMIT", default="300/5m/ip") + ",5/5m/key",
    "reset_password": "5/m/ip,3/m/key",
}
# Single sign-on: each organisation's identity provider is configured in the admin
# (sectors.IdentityProvider), which keeps allauth's SocialApp in step; sectors.sso decides whom a
# sign-in links to, which memberships its claims ask for, and whether two-factor was asserted.
SOCIALACCOUNT_ADAPTER = "sectors.sso.IdentityProviderAdapter"
SOCIALACCOUNT_AUTO_SIGNUP = True  # only when the claims name an organisation of the portal (the adapter)
SOCIALACCOUNT_EMAIL_AUTHENTICATION = False  # the adapter links by a verified e-mail itself
SOCIALACCOUNT_STORE_TOKENS = False  # the portal calls no API of the identity providers
SOCIALACCOUNT_LOGIN_ON_GET = False  # the sign-in buttons POST
SOCIALACCOUNT_REQUESTS_TIMEOUT = env.int("SSO_REQUESTS_TIMEOUT", default=10)
# allauth's SAML provider, with the assertion's AuthnContextClassRef among the claims (two factors asserted).
SOCIALACCOUNT_PROVIDERS = {"saml": {"provider_class": "sectors.sso.SAMLProvider"}}
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes"]
MFA_TOTP_ISSUER = "SmartCare"
# Superusers and organisation administrators must have TOTP before the admin opens for them.
MFA_REQUIRED_FOR_ADMINS = env.bool("MFA_REQUIRED_FOR_ADMINS", default=IS_PRODUCTION)

# Sessions end after a period of inactivity: a request renews the session, at most once a minute
# (smartcare.session.SessionMiddleware), so it ends 29 to 30 idle minutes after the last request.
SESSION_IDLE_TIMEOUT_MINUTES = env.int("SESSION_IDLE_TIMEOUT_MINUTES", default=30)
SESSION_COOKIE_AGE = SESSION_IDLE_TIMEOUT_MINUTES * 60
SESSION_SAVE_EVERY_REQUEST = False
# With Redis, a request reads its session from the cache that every process shares (the database
# holds it too, and is read when the cache has lost it); without Redis each process has a cache of
# its own, which would miss another process's change (a switch of organisation), so the database.
SESSION_ENGINE = "django.contrib.sessions.backends.cached_db" if REDIS_URL else "django.contrib.sessions.backends.db"
SESSION_EXPIRE_AT_BROWSER_CLOSE = True

# --- Internationalisation ---------------------------------------------------------------------
LANGUAGE_CODE = "da"
LANGUAGES = [("da", _("Danish")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Europe/Copenhagen"
USE_I18N = True
USE_TZ = True
# Django's English writes 12/06/2026 (month first): the portal's formats are unambiguous in both
# languages (6 Dec 2026; 06.12.2026 and a decimal comma), see smartcare/formats/.
FORMAT_MODULE_PATH = ["smartcare.formats"]

# --- Static files -----------------------------------------------------------------------------
# Front-end libraries come from the npm registry (package.json) and are served by the portal.
NODE_MODULES = BASE_DIR / "node_modules"
STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
STATICFILES_DIRS = [
    BASE_DIR / "static",
    ("vendor/bootstrap", NODE_MODULES / "bootstrap" / "dist"),
    ("vendor/bootstrap-icons", NODE_MODULES / "bootstrap-icons" / "font"),
    ("vendor/htmx", NODE_MODULES / "htmx.org" / "dist"),
    ("vendor/chartjs", NODE_MODULES / "chart.js" / "dist"),
]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if IS_PRODUCTION
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}
WHITENOISE_USE_FINDERS = not IS_PRODUCTION
if not IS_PRODUCTION:
    STATIC_ROOT.mkdir(parents=True, exist_ok=True)
MEDIA_ROOT = env.path("MEDIA_ROOT", default=VAR_DIR / "media")
MEDIA_URL = "media/"

# --- E-mail -----------------------------------------------------------------------------------
if IS_PRODUCTION:
    vars().update(env.email_url("EMAIL_URL"))
else:
    vars().update(env.email_url("EMAIL_URL", default="consolemail://"))
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="SmartCare <no-reply@smartcare.example>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# --- REST API ---------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.SessionAuthentication",
        "sectors.api.authentication.TokenAuthentication",
    ],
    # Signed in, and for a token request what its token's scope allows (sectors.tokens).
    "DEFAULT_PERMISSION_CLASSES": [
        "rest_framework.permissions.IsAuthenticated",
        "sectors.api.permissions.TokenScopePermission",
    ],
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_PAGINATION_CLASS": "smartcare.api.pagination.StandardPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_SCHEMA_CLASS": "smartcare.api.schema.SmartCareAutoSchema",
    "DEFAULT_VERSIONING_CLASS": None,
    "EXCEPTION_HANDLER": "smartcare.api.exceptions.exception_handler",
    "DEFAULT_THROTTLE_CLASSES": ["smartcare.api.throttling.UserRateThrottle"],
    "DEFAULT_THROTTLE_RATES": {"user": env.str("API_USER_RATE", default="6000/hour")},
}
SPECTACULAR_SETTINGS = {
    "TITLE": "SmartCare API",
    "DESCRIPTION": (
        "Cross-sector care coordination for general practice, hospitals and municipalities. "
        "Browsers use session authentication; integrations send `Authorization: Token <key>` "
        "with a token created by an administrator. Send `X-Acting-Organisation: <id>` to act "
        "for one of several organisations."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    # Fields named status, code, kind and role carry different value sets in different apps: each
    # set gets a name of its own, and the organisation's kind and role keep the names they had.
    "ENUM_NAME_OVERRIDES": {
        "CarePlanStatusEnum": "careplans.choices.CarePlanStatus",
        "ActivityStatusEnum": "careplans.choices.ActivityStatus",
        "ObservationStatusEnum": "careplans.choices.ObservationStatus",
        "ObservationCodeEnum": "careplans.choices.ObservationCode",
        "ThresholdCodeEnum": "careplans.choices.ThresholdCode",
        "AlertKindEnum": "careplans.choices.AlertKind",
        "CareTeamRoleEnum": "careplans.choices.CareTeamRole",
        "KindEnum": "sectors.choices.OrganisationKind",
        "RoleEnum": "sectors.choices.MembershipRole",
    },
}

# --- Security ---------------------------------------------------------------------------------
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = False  # htmx reads the token from the page, not the cookie
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}
if IS_PRODUCTION:
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
    SECURE_REDIRECT_EXEMPT = [r"^health/$"]  # the load balancer probes over plain HTTP
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=60 * 60 * 24 * 365)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SESSION_COOKIE_NAME = "__Host-sessionid"
    CSRF_COOKIE_NAME = "__Host-csrftoken"

# --- Logging: structured, and never with CPR numbers or health data -------------------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "kv": {"format": "ts=%(asctime)s level=%(levelname)s logger=%(name)s msg=%(message)s"},
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "kv"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}

# --- SmartCare --------------------------------------------------------------------------------
SMARTCARE_SITE_NAME = "SmartCare"
SMARTCARE_DEMO_LOADERS = [
    "sectors.demo.demo_data_load",
    "citizens.demo.citizen_demo_load",
    "careplans.demo.careplan_demo_load",
    "messaging.demo.messaging_demo_load",
]
# What ``generate_region`` adds for each batch of synthetic citizens (citizens.generate.RegionExtension).
SMARTCARE_REGION_EXTENSIONS = [
    "careplans.generate.CarePlanGenerator",
    "messaging.generate.MessageGenerator",
]
# A hospital department keeps access to a citizen this many days after discharge.
CITIZEN_ACCESS_HOSPITAL_DAYS = env.int("CITIZEN_ACCESS_HOSPITAL_DAYS", default=30)
# An organisation that received a message about a citizen keeps a relationship this many days
# after the last message of the thread.
MESSAGE_RELATIONSHIP_DAYS = env.int("MESSAGE_RELATIONSHIP_DAYS", default=90)
# How long the record of each $process-message call (the gateways-and-integrations page) is kept.
FHIR_CALL_DAYS = env.int("FHIR_CALL_DAYS", default=90)
# How long break-the-glass access lasts.
BREAK_THE_GLASS_HOURS = env.int("BREAK_THE_GLASS_HOURS", default=4)
# A hand-off request nobody answered within this many hours shows as overdue.
HANDOFF_OVERDUE_HOURS = env.int("HANDOFF_OVERDUE_HOURS", default=72)
# After a discharge, the Today list says "Discharged <date>" on the citizen's visits this many hours.
TODAY_DISCHARGED_NOTICE_HOURS = env.int("TODAY_DISCHARGED_NOTICE_HOURS", default=48)
# "Mark done" can be undone by the person who did it for this many minutes.
ACTIVITY_DONE_UNDO_MINUTES = env.int("ACTIVITY_DONE_UNDO_MINUTES", default=10)
# Lists (pages and API) count their rows up to this many; beyond it they say "more than" and page
# on without a last page (smartcare.pagination.CappedPaginator): an exact count of a whole
# municipality's citizens or messages on every page costs more than the number is worth.
LIST_COUNT_CAP = env.int("LIST_COUNT_CAP", default=1000)

# --- Messaging (messaging/) -----------------------------------------------------------------------
# Absolute links in e-mails.
SMARTCARE_BASE_URL = (
    env.str("SMARTCARE_BASE_URL") if IS_PRODUCTION else env.str("SMARTCARE_BASE_URL", default="http://127.0.0.1:8000")
)
# Files chosen on a message form that had an error are kept this long (messaging/kept.py).
KEPT_UPLOAD_HOURS = env.int("KEPT_UPLOAD_HOURS", default=2)
# MedCom reliable messaging: resend after this long without an acknowledgement, at most this often.
MESSAGING_ACK_TIMEOUT_MINUTES = env.int("MESSAGING_ACK_TIMEOUT_MINUTES", default=30)
MESSAGING_MAX_RESENDS = env.int("MESSAGING_MAX_RESENDS", default=2)
# Unhandled hospital notifications and asap messages remind the care coordinators after this long.
MESSAGING_ESCALATE_AFTER_HOURS = env.float("MESSAGING_ESCALATE_AFTER_HOURS", default=4)
# Delivery attempts: exponential backoff from BACKOFF up to CAP seconds, at most MAX_ATTEMPTS tries.
MESSAGING_MAX_ATTEMPTS = env.int("MESSAGING_MAX_ATTEMPTS", default=8)
MESSAGING_BACKOFF_SECONDS = env.float("MESSAGING_BACKOFF_SECONDS", default=30)
MESSAGING_BACKOFF_CAP_SECONDS = env.float("MESSAGING_BACKOFF_CAP_SECONDS", default=3600)
# A delivery "sending" longer than this was left by a killed worker; pending ones are swept after the grace.
MESSAGING_STUCK_MINUTES = env.float("MESSAGING_STUCK_MINUTES", default=10)
MESSAGING_SWEEP_GRACE_SECONDS = env.float("MESSAGING_SWEEP_GRACE_SECONDS", default=60)
MESSAGING_WEBHOOK_TIMEOUT_SECONDS = env.float("MESSAGING_WEBHOOK_TIMEOUT_SECONDS", default=10)
MESSAGING_WEBHOOK_REQUIRE_HTTPS = env.bool("MESSAGING_WEBHOOK_REQUIRE_HTTPS", default=IS_PRODUCTION)
# MedCom: a message with its attachments is at most 50 MB.
MESSAGING_MAX_MESSAGE_BYTES = env.int("MESSAGING_MAX_MESSAGE_BYTES", default=50 * 1024 * 1024)
# Request bodies are at most Django's 2.5 MB, except where messages with attachments arrive (the views
# marked smartcare.uploads.large_body): there the whole message, plus 1 MB for the form around it.
MESSAGING_MAX_REQUEST_BYTES = MESSAGING_MAX_MESSAGE_BYTES + 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = env.int("DATA_UPLOAD_MAX_MEMORY_SIZE", default=2_621_440)

# --- Error reporting (smartcare/sentry.py) --------------------------------------------------------
# Errors of the web process and the worker go to Sentry when SENTRY_DSN is set, scrubbed of request
# data, local variables and anything that looks like a CPR number before they leave.
SENTRY_DSN = env.str("SENTRY_DSN", default="")
if SENTRY_DSN:
    from smartcare.sentry import sentry_init

    sentry_init(
        dsn=SENTRY_DSN,
        environment=env.str("SENTRY_ENVIRONMENT", default=DJANGO_ENV),
        release=env.str("SENTRY_RELEASE", default=""),
    )
