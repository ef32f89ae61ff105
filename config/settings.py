"""Settings for every environment, read from the environment (django-environ).

SHOP_ENV selects the defaults: ``local`` (the default: SQLite, an embedded Celery broker,
console email, the offline payment gateway, keys generated under var/), ``test`` (the same
shape, throw-away keys), ``production`` (refuses to start without real secrets and hosts).
Local and production run the same code; only environment variables differ.
"""
from __future__ import annotations

import atexit
import os
import secrets
import shutil
import tempfile
from pathlib import Path

import environ
from celery.schedules import crontab
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent
env = environ.Env()
if (BASE_DIR / ".env").exists():
    environ.Env.read_env(BASE_DIR / ".env")

SHOP_ENV = env.str("SHOP_ENV", default="local")
if SHOP_ENV not in {"local", "test", "production"}:
    raise ImproperlyConfigured("SHOP_ENV must be local, test or production")
PRODUCTION = SHOP_ENV == "production"
TESTING = SHOP_ENV == "test"

if TESTING and not env.str("SHOP_VAR_DIR", default=""):
    # Tests never write into the checkout's var/: each test process gets its own folder.
    os.environ["SHOP_VAR_DIR"] = tempfile.mkdtemp(prefix="shop-test-")
    atexit.register(shutil.rmtree, os.environ["SHOP_VAR_DIR"], ignore_errors=True)
VAR_DIR = Path(env.str("SHOP_VAR_DIR", default=str(BASE_DIR / "var")))
# Files holding personal data (exports, attachments): never under a static or media URL.
PRIVATE_ROOT = Path(env.str("SHOP_PRIVATE_ROOT", default=str(VAR_DIR / "private")))


def _local_secret(name: str, nbytes: int = 48) -> str:
    """A secret for local use, generated once into var/keys/ (mode 0600)."""
    if TESTING:
        return secrets.token_urlsafe(nbytes)
    keys = VAR_DIR / "keys"
    keys.mkdir(parents=True, exist_ok=True)
    path = keys / name
    if not path.exists():
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(secrets.token_urlsafe(nbytes))
    return path.read_text().strip()


def _secret(name: str, minimum: int = 32) -> str:
    if not PRODUCTION:
        return env.str(name, default="") or _local_secret(name.lower())
    value = env.str(name, default="")
    if len(value) < minimum or value.startswith("django-insecure") or "change-me" in value:
        raise ImproperlyConfigured(
            f"{name} must be set to a random value of at least {minimum} characters in production."
        )
    return value


SECRET_KEY = _secret("SECRET_KEY", minimum=50)
# Key for encrypted model fields; kept outside the database (env or var/keys/).
CRYPTOGRAPHY_KEY = _secret("CRYPTOGRAPHY_KEY")
# Previous encryption keys, still readable until `rotate_encryption_key` finishes.
CRYPTOGRAPHY_OLD_KEYS = env.list("CRYPTOGRAPHY_OLD_KEYS", default=[])
# Key for blind indexes (keyed hashes used to look up encrypted values); separate on purpose.
BLIND_INDEX_KEY = _secret("BLIND_INDEX_KEY")

DEBUG = env.bool("DEBUG", default=SHOP_ENV == "local")
if PRODUCTION and DEBUG:
    raise ImproperlyConfigured("DEBUG must be off in production.")
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=[] if PRODUCTION else ["127.0.0.1", "localhost", "testserver"])
if PRODUCTION and (not ALLOWED_HOSTS or "*" in ALLOWED_HOSTS):
    raise ImproperlyConfigured("ALLOWED_HOSTS must list the shop's host names in production.")
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
SITE_URL = env.str("SITE_URL", default="http://127.0.0.1:8000").rstrip("/")

INSTALLED_APPS = [
    "health_check",  # GET /healthz/ (config/health.py)
    "config.apps.ShopAdminConfig",  # the admin, requiring MFA from every staff member
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_countries",
    "django_celery_beat",
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "allauth.usersessions",
    "csp",
    "privacy",
    "shop",
    "orders",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "config.middleware.HostileInputGuard",  # before anything reads a cookie or the query string
    "privacy.audit.middleware.RequestIdMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django_permissions_policy.PermissionsPolicyMiddleware",
    "csp.middleware.CSPMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "shop.account.auth.AuthenticationMiddleware",  # Django's, the user read with the frame's answers (issue 15)
    "django.contrib.messages.middleware.MessageMiddleware",
    "config.limits_middleware.RequestSizeLimitMiddleware",  # before anything reads the body
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "privacy.protection.middleware.CoarseClientMiddleware",
    "shop.account.activity.SessionActivityMiddleware",  # allauth's session tracking, one write per interval
    "privacy.consent.middleware.ConsentEffectsMiddleware",
    "privacy.protection.middleware.NoStoreMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
ADMIN_URL = env.str("ADMIN_URL", default="staff/").strip("/") + "/"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "shop.context_processors.shop",
                "privacy.context_processors.privacy",
            ],
            # {% url %} without arguments reversed once per process (issue 15)
            "builtins": ["shop.templatetags.memo_url"],
        },
    },
]

DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'db.sqlite3'}"),
    # The key store (per-person data keys, tombstones): its own database, so the shop's backups
    # never hold the keys (privacy.protection.keystore). Back it up on its own schedule.
    "keys": env.db("KEYSTORE_DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'keys.sqlite3'}"),
}
DATABASE_ROUTERS = ["privacy.protection.keystore.KeyStoreRouter"]
for _db in DATABASES.values():
    if _db["ENGINE"] == "django.db.backends.sqlite3":
        # IMMEDIATE transactions take the write lock up front, so the web process and the
        # worker queue behind each other instead of failing with "database is locked".
        _db.setdefault("OPTIONS", {}).update(
            {"transaction_mode": "IMMEDIATE", "timeout": 20,
             "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"}
        )
    if _db["ENGINE"] == "django.db.backends.postgresql" and env.bool("PG_PREPARED_STATEMENTS", default=True):
        # psycopg prepares a statement once a connection has run it 5 times (server-side
        # parameters; Django prepares nothing by default). A signed-in page's one statement
        # (session, user and the page frame's answers) was planned afresh on every request.
        # Behind a pooler that cannot keep prepared statements (PgBouncer in transaction mode
        # before 1.21), set PG_PREPARED_STATEMENTS=0.
        _db.setdefault("OPTIONS", {}).update({"server_side_binding": True, "prepare_threshold": 5})
    # Persistent connections on every engine: opening one per request (SQLite's WAL pragmas
    # included) was more than half of what a cached page cost under gunicorn (issue 15).
    _db.setdefault("CONN_MAX_AGE", env.int("CONN_MAX_AGE", default=60))
    _db.setdefault("CONN_HEALTH_CHECKS", True)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

CACHES = {"default": env.cache("CACHE_URL", default="locmemcache://shop")}

AUTH_USER_MODEL = "shop.User"
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
if TESTING:
    # Same algorithm, cheaper parameters: tests prove Argon2 is used without paying its cost.
    PASSWORD_HASHERS.insert(0, "shop.hashers.TestArgon2PasswordHasher")
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "account:center"

# allauth: email is the login, no username, verified email.
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_EMAIL_VERIFICATION = "mandatory"
ACCOUNT_CONFIRM_EMAIL_ON_GET = False
ACCOUNT_LOGOUT_ON_PASSWORD_CHANGE = False
ACCOUNT_DEFAULT_HTTP_PROTOCOL = "https" if PRODUCTION else "http"
# The shop's name and address as people see them in emails and pages (not the request's host:port).
SHOP_NAME = env.str("SHOP_NAME", default="Privacy-first Shop")
SHOP_DOMAIN = env.str("SHOP_DOMAIN", default="localhost" if not PRODUCTION else "shop.example")
ACCOUNT_EMAIL_SUBJECT_PREFIX = f"[{SHOP_NAME}] "
# A person is shown by their name, else their email, never "User #2".
ACCOUNT_USER_DISPLAY = "shop.adapters.user_display"
ACCOUNT_PREVENT_ENUMERATION = True
ACCOUNT_CHANGE_EMAIL = True  # one address at a time; the new one is used once verified
ACCOUNT_EMAIL_NOTIFICATIONS = True  # tell the user when their password or email changes
ACCOUNT_ADAPTER = "shop.adapters.AccountAdapter"
ACCOUNT_SIGNUP_FORM_CLASS = "shop.forms.SignupForm"  # adds the 18+ confirmation
ACCOUNT_FORMS = {"login": "shop.account_forms.LoginForm",  # they carry the canonical email on
                 "reset_password": "shop.account_forms.ResetPasswordForm"}
# Failed sign-ins: after this many attempts for one email the login is locked for this long.
LOGIN_ATTEMPTS_LIMIT = env.int("LOGIN_ATTEMPTS_LIMIT", default=5)
LOGIN_LOCKOUT_SECONDS = env.int("LOGIN_LOCKOUT_SECONDS", default=15 * 60)
# allauth's own limits ("count/period/per"; per ip = client network, key = the address typed in,
# user = the account). Every one of these forms sends mail or checks a password or code.
ACCOUNT_RATE_LIMITS = {
    "login": "30/m/ip",
    "login_failed": f"20/m/ip,{LOGIN_ATTEMPTS_LIMIT}/{LOGIN_LOCKOUT_SECONDS}s/key",  # also TOTP codes, per user
    "signup": "20/h/ip",  # each sign-up mails the address typed in
    "reset_password": "20/h/ip,3/h/key",
    "reset_password_from_key": "20/m/ip",
    "manage_email": "10/h/user",
    "confirm_email": "1/3m/key",
    "reauthenticate": "10/15m/user",
    "change_password": "5/15m/user",
}
MFA_ADAPTER = "shop.adapters.MFAAdapter"
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes"]
MFA_TOTP_ISSUER = "Privacy-first Shop"
USERSESSIONS_TRACK_ACTIVITY = True

SESSION_ENGINE = "shop.sessions"  # the database store, read in plain SQL
# Notices live in the session, not in a cookie of their own: strictly necessary cookies only.
# Notices tagged as holding nothing personal ride in the signed cookie, the rest in the session
# (the newest 10 not yet shown).
MESSAGE_STORAGE = "shop.sessions.NoticeStorage"
SESSION_COOKIE_AGE = 60 * 60 * 24 * 14
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_HTTPONLY = True

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles" if PRODUCTION else VAR_DIR / "static"
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
# Outside production whitenoise serves straight from the app folders: no collectstatic step.
WHITENOISE_USE_FINDERS = not PRODUCTION
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(env.str("SHOP_MEDIA_ROOT", default=str(VAR_DIR / "media")))
# Product images are public; the site serves them itself unless a proxy does (SERVE_MEDIA=off).
SERVE_MEDIA = env.bool("SERVE_MEDIA", default=True)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if PRODUCTION
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
# Private files (exports, attachments; privacy/protection/storage.py): the folder PRIVATE_ROOT by
# default; an S3-compatible bucket when AWS_STORAGE_BUCKET_NAME is set (django-storages' own names),
# objects private and holding only our ciphertext. Every web and worker host must see the same one.
if env.str("AWS_STORAGE_BUCKET_NAME", default=""):
    STORAGES["private"] = {"BACKEND": "privacy.protection.storage_s3.PrivateS3Storage", "OPTIONS": {
        "bucket_name": env.str("AWS_STORAGE_BUCKET_NAME"),
        "endpoint_url": env.str("AWS_S3_ENDPOINT_URL", default="") or None,
        "region_name": env.str("AWS_S3_REGION_NAME", default="") or None,
        "access_key": env.str("AWS_ACCESS_KEY_ID", default="") or None,
        "secret_key": env.str("AWS_SECRET_ACCESS_KEY", default="") or None,
        "addressing_style": env.str("AWS_S3_ADDRESSING_STYLE", default="") or None,
        "location": env.str("AWS_LOCATION", default=""),  # a key prefix, when the bucket is shared
    }}
else:
    STORAGES["private"] = {"BACKEND": "privacy.protection.storage.PrivateFileSystemStorage"}

EMAIL_CONFIG = env.email_url("EMAIL_URL", default="consolemail://")
vars().update(EMAIL_CONFIG)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="Privacy-first Shop <shop@example.com>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# --- Celery --------------------------------------------------------------------------
# The purge runs daily at a quiet hour (UTC); PRIVACY_PURGE_EVERY_SECONDS replaces that with an
# interval (used by the Celery integration test).
PRIVACY_PURGE_EVERY_SECONDS = env.int("PRIVACY_PURGE_EVERY_SECONDS", default=0)
BROKER_DIR = VAR_DIR / "broker"
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="filesystem://")
if CELERY_BROKER_URL.startswith("filesystem://"):
    for sub in ("queue", "processed", "control"):
        (BROKER_DIR / sub).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(BROKER_DIR / "queue"),
        "data_folder_out": str(BROKER_DIR / "queue"),
        "processed_folder": str(BROKER_DIR / "processed"),
        "control_folder": str(BROKER_DIR / "control"),  # else kombu writes ./control in the working directory
        "store_processed": False,
    }
else:
    # Redis: a task taken by a worker that then died (acks_late) goes back to the queue once it has
    # been unacknowledged this long. Keep it above the longest task run and the longest countdown
    # (retry backoffs reach 600 s), or such tasks run twice.
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "visibility_timeout": env.int("CELERY_BROKER_VISIBILITY_TIMEOUT", default=3600),
    }
# Unit tests run tasks in-process; integration tests start real workers (CELERY_TASK_ALWAYS_EAGER=0).
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=TESTING)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True  # a worker killed mid-task leaves the task to be retried
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = TIME_ZONE
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_BEAT_SCHEDULE = {
    "deliver-pending-notifications": {"task": "orders.tasks.notifications_sweep", "schedule": 60.0},
    "cancel-unpaid-checkouts": {"task": "orders.tasks.orders_cancel_unpaid", "schedule": 300.0},
    "delete-expired-exports": {"task": "privacy.tasks.exports_expire", "schedule": crontab(minute=7)},
    "run-due-erasures": {"task": "privacy.tasks.erasures_run_due", "schedule": crontab(hour=3, minute=30)},
    "expire-legal-holds": {"task": "privacy.tasks.legal_holds_expire", "schedule": crontab(hour=3, minute=0)},
    "remind-privacy-requests": {"task": "privacy.tasks.requests_remind", "schedule": crontab(hour=8, minute=0)},
    "retention-purge": {"task": "privacy.tasks.retention_purge",
                        "schedule": float(PRIVACY_PURGE_EVERY_SECONDS) if PRIVACY_PURGE_EVERY_SECONDS
                        else crontab(hour=3, minute=15)},
    # After the purge and the due erasures: keys their rows no longer need go (privacy.keys.sweep).
    "sweep-data-keys": {"task": "privacy.tasks.keys_sweep", "schedule": crontab(hour=3, minute=45)},
}

# --- Shop ----------------------------------------------------------------------------
SHOP_CURRENCY = "USD"  # every price, order, payment and refund (P5)
SHOP_PAGE_SIZE = env.int("SHOP_PAGE_SIZE", default=24)
SHOP_RETURN_DAYS = env.int("SHOP_RETURN_DAYS", default=90)  # return window after delivery (P7)
SHOP_REFUND_DAYS = env.int("SHOP_REFUND_DAYS", default=7)  # target refund cycle from receipt (P7)
SHOP_ATTACHMENT_MAX_BYTES = env.int("SHOP_ATTACHMENT_MAX_BYTES", default=5 * 1024 * 1024)
SHOP_LOW_STOCK = env.int("SHOP_LOW_STOCK", default=5)  # staff statistics flag products at or below this
# Staff statistics show no figure resting on fewer than this many distinct people (P9, orders/analytics.py).
PRIVACY_STATS_MIN_PEOPLE = env.int("PRIVACY_STATS_MIN_PEOPLE", default=5)
SHOP_MAX_QUANTITY_PER_LINE = 99
# An unpaid order holds its stock this long before it is cancelled and restocked.
SHOP_UNPAID_ORDER_MINUTES = env.int("SHOP_UNPAID_ORDER_MINUTES", default=60)
# Rights requests (P18): answered within PRIVACY_REQUEST_DAYS (calendar days; the admin also shows
# working days against the 15–30 working-day promise); erasure waits a cancellable grace period.
PRIVACY_REQUEST_DAYS = env.int("PRIVACY_REQUEST_DAYS", default=30)
PRIVACY_REQUEST_TARGET_WORKING_DAYS = 15
PRIVACY_REQUEST_MAX_WORKING_DAYS = 30
PRIVACY_HOLIDAYS: list[str] = []  # ISO dates the legal clock skips besides weekends (P18)
PRIVACY_ERASURE_GRACE_DAYS = env.int("PRIVACY_ERASURE_GRACE_DAYS", default=14)
PRIVACY_EXPORT_DAYS = env.int("PRIVACY_EXPORT_DAYS", default=7)
# A payment dispute holds its order this long unless the dispute closes first (staff may extend it).
PRIVACY_DISPUTE_HOLD_DAYS = env.int("PRIVACY_DISPUTE_HOLD_DAYS", default=180)
# Retention periods in days, overriding the registry's defaults by rule key, e.g.
# PRIVACY_RETENTION_DAYS='{"orders.delivered": 150, "browsing.history": 30}' (see README).
PRIVACY_RETENTION_DAYS = env.json("PRIVACY_RETENTION_DAYS", default={})
# How long the emailed link to a guest's order page stays valid.
SHOP_GUEST_LINK_DAYS = env.int("SHOP_GUEST_LINK_DAYS", default=180)
SHOP_PRIVACY_CONTACT = env.str("SHOP_PRIVACY_CONTACT", default="privacy@example.com")

# Notice before a privacy policy change takes effect (P21); the shop refuses less than 7.
POLICY_NOTICE_WORKING_DAYS = max(7, env.int("POLICY_NOTICE_WORKING_DAYS", default=7))

STRIPE_SECRET_KEY = env.str("STRIPE_SECRET_KEY", default="")
STRIPE_PUBLISHABLE_KEY = env.str("STRIPE_PUBLISHABLE_KEY", default="")
STRIPE_WEBHOOK_SECRET = env.str("STRIPE_WEBHOOK_SECRET", default="")
STRIPE_API_BASE = env.str("STRIPE_API_BASE", default="")  # only for a local fake Stripe
PAYMENT_GATEWAY = env.str("PAYMENT_GATEWAY", default="stripe" if STRIPE_SECRET_KEY else "offline")
if PAYMENT_GATEWAY not in {"stripe", "offline"}:
    raise ImproperlyConfigured("PAYMENT_GATEWAY must be stripe or offline")
if PRODUCTION and PAYMENT_GATEWAY == "stripe" and not (STRIPE_PUBLISHABLE_KEY and STRIPE_WEBHOOK_SECRET):
    raise ImproperlyConfigured("Stripe needs STRIPE_PUBLISHABLE_KEY and STRIPE_WEBHOOK_SECRET.")
if PRODUCTION and PAYMENT_GATEWAY == "offline" and not env.bool("ALLOW_OFFLINE_PAYMENTS", default=False):
    raise ImproperlyConfigured("Production takes real payments: set the Stripe keys.")

# --- Security ------------------------------------------------------------------------
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
PERMISSIONS_POLICY = {
    "geolocation": [], "camera": [], "microphone": [], "payment": ["self"],
    "usb": [], "interest-cohort": [], "browsing-topics": [],
}
if PRODUCTION:
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    if env.bool("BEHIND_TLS_PROXY", default=True):
        SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# --- Limits on what one client can make the shop do -------------------------------------
# Behind the TLS proxy every request arrives from the proxy: the client is what the proxy reports.
# TRUSTED_PROXY_COUNT proxies of ours append to X-Forwarded-For (or one sets TRUSTED_CLIENT_IP_HEADER);
# allauth and config/ratelimits.client_ip both read these two settings.
ALLAUTH_TRUSTED_PROXY_COUNT = env.int(
    "TRUSTED_PROXY_COUNT", default=1 if PRODUCTION and env.bool("BEHIND_TLS_PROXY", default=True) else 0)
ALLAUTH_TRUSTED_CLIENT_IP_HEADER = env.str("TRUSTED_CLIENT_IP_HEADER", default="") or None
# django-ratelimit (privacy/protection/throttle.py) counts in the shared cache, per client network like allauth.
RATELIMIT_USE_CACHE = "default"
RATELIMIT_IP_META_KEY = "privacy.protection.throttle.ratelimit_ip"
RATELIMIT_IPV4_MASK, RATELIMIT_IPV6_MASK = 24, 48
RATELIMIT_ENABLE = env.bool("RATELIMIT_ENABLE", default=True)
SHOP_RATE_LIMITS = env.json("SHOP_RATE_LIMITS", default={})  # overrides of config/ratelimits.LIMITS
# Bodies larger than this are refused (413) from Content-Length, before they are read: room for
# three attachments and the form around them.
SHOP_MAX_REQUEST_BYTES = env.int("SHOP_MAX_REQUEST_BYTES", default=3 * SHOP_ATTACHMENT_MAX_BYTES + 1024 * 1024)
if SHOP_MAX_REQUEST_BYTES <= SHOP_ATTACHMENT_MAX_BYTES:
    raise ImproperlyConfigured("SHOP_MAX_REQUEST_BYTES must be larger than SHOP_ATTACHMENT_MAX_BYTES.")
DATA_UPLOAD_MAX_MEMORY_SIZE = env.int("DATA_UPLOAD_MAX_MEMORY_SIZE", default=1024 * 1024)  # form fields, files aside
# Uploads up to the cap stay in memory: an attachment never lands unencrypted in a temporary folder.
FILE_UPLOAD_MAX_MEMORY_SIZE = SHOP_MAX_REQUEST_BYTES

# Country names as people know them (django-countries' ISO names include "Bahamas (The)", "Naoero").
COUNTRIES_OVERRIDE = {
    "BS": "Bahamas", "NR": "Nauru", "FK": "Falkland Islands", "MF": "Saint Martin", "SX": "Sint Maarten",
    "VG": "British Virgin Islands", "VI": "US Virgin Islands", "US": "United States", "CV": "Cape Verde",
    "BQ": "Caribbean Netherlands", "PN": "Pitcairn Islands", "ST": "São Tomé and Príncipe", "MO": "Macau",
}

# Strict CSP: nothing inline, nothing third-party. Only the payment page, and only when Stripe takes
# the payment, adds Stripe's origins (orders.views.pay): frame-src is then replaced, never mixed with
# 'none' (Chrome ignores a list that mixes them).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "frame-src": [NONE],
        "frame-ancestors": [NONE],
        "form-action": [SELF],
        "base-uri": [NONE],
        "object-src": [NONE],
    }
}

LOGGING_CONFIG = "config.logs.configure"  # also filters the handlers of Django's default logging
# JSON lines in production (one object per line with the request id, config/logs.py), plain text
# elsewhere; LOG_FORMAT=json|plain overrides.
LOG_FORMAT = env.str("LOG_FORMAT", default="json" if PRODUCTION else "plain")
if LOG_FORMAT not in {"json", "plain"}:
    raise ImproperlyConfigured("LOG_FORMAT must be json or plain")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
                   "json": {"()": "config.logs.JsonFormatter"}},
    # Every handler redacts email addresses (Celery's own handlers too: config/celery.py).
    "filters": {"redact_emails": {"()": "config.logs.RedactEmails"},
                "request_id": {"()": "config.logs.RequestId"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": LOG_FORMAT,
                             "filters": ["redact_emails", "request_id"]}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}
if LOG_FORMAT == "json":
    # Workers and beat log through the handler above rather than Celery's own plain-text ones
    # (Celery leaves a logger alone that already has a handler).
    CELERY_WORKER_HIJACK_ROOT_LOGGER = False
    LOGGING["loggers"].update({name: {"handlers": ["console"], "propagate": False}
                               for name in ("celery.task", "celery.redirected")})
