"""Settings for the pizzeria project, read from the environment or a .env file.

Every variable is listed, with a comment, in `.env.example`.
"""

import sys
from datetime import timedelta
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import environ
from django.utils.csp import CSP

if sys.version_info < (3, 12):
    sys.exit(f"This project needs Python 3.12 or newer; this is {sys.version.split()[0]}.")

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
# Variables not set in the environment are read from ENV_FILE (default .env; empty: none,
# as in the tests, pizzeria/test_settings.py).
env_file = env("ENV_FILE", default=str(BASE_DIR / ".env"))
if env_file:
    environ.Env.read_env(env_file, overwrite=False)

SECRET_KEY = env("SECRET_KEY", default="django-insecure-dev-only-change-me")
DEBUG = env.bool("DEBUG", default=True)
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django_fsm",
    "telephony",  # before django_tasks_db: its db_worker command replaces the library's
    "django_tasks_db",
    "phonenumber_field",
    "orders",
    "support",
    "campaigns",
    "staff",
    "payments",
    "axes",  # staff logins throttled: staff/login.py
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "axes.middleware.AxesMiddleware",  # last, as django-axes asks
]
# Each request's id (and its MessageSid / CallSid) on every log line it writes, and one line
# for the request itself with LOG_FORMAT=json: first, so it sees the whole request.
MIDDLEWARE.insert(0, "pizzeria.logs.RequestLog")

ROOT_URLCONF = env("ROOT_URLCONF", default="pizzeria.urls")  # bench/ swaps in bench.urls

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
                "django.template.context_processors.csp",
            ],
        },
    },
]

WSGI_APPLICATION = "pizzeria.wsgi.application"
ASGI_APPLICATION = "pizzeria.asgi.application"

# Database: a SQLite file by default, any other by DATABASE_URL alone, e.g.
# postgres://user:pass@host:5432/pizzeria. Only Django's own engines and their
# documented OPTIONS (README "Database").
# How long a query waits for another's lock before "database is locked" / "lock
# timeout": the webhook then answers 503 + Retry-After, and Twilio, which gives up on
# a webhook after 15 s, must see that answer; so well inside 15 s.
DATABASE_LOCK_TIMEOUT = env.int("DATABASE_LOCK_TIMEOUT", default=5)
DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}")}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL: readers never wait for the writer; synchronous=NORMAL: no fsync per commit
    # (safe with WAL). IMMEDIATE: a transaction takes the write lock at BEGIN, so it
    # waits its turn there instead of failing when it upgrades from reading to writing.
    # `timeout` is SQLite's busy timeout (the lock wait). Connections persist so the
    # pragmas are not re-run per request.
    DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("CONN_MAX_AGE", default=600))
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "timeout": DATABASE_LOCK_TIMEOUT,
            "transaction_mode": "IMMEDIATE",
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        }
    )
elif DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    options = DATABASES["default"].setdefault("OPTIONS", {})
    options.setdefault("options", f"-c lock_timeout={DATABASE_LOCK_TIMEOUT * 1000}")
    if env.bool("DATABASE_POOL", default=True):
        # psycopg's connection pool, one per process (Django's "pool" option; it needs
        # CONN_MAX_AGE 0). With CONN_HEALTH_CHECKS a connection is checked as it leaves
        # the pool, so one the server ended is replaced before a request uses it.
        # `timeout`: the wait for a free connection. DATABASE_POOL=false: no pool, each
        # connection persists CONN_MAX_AGE seconds instead.
        options.setdefault(
            "pool",
            {
                "min_size": env.int("DATABASE_POOL_MIN_SIZE", default=1),
                "max_size": env.int("DATABASE_POOL_MAX_SIZE", default=10),
                "timeout": DATABASE_LOCK_TIMEOUT,
            },
        )
        DATABASES["default"]["CONN_MAX_AGE"] = 0
if DATABASES["default"]["ENGINE"] != "django.db.backends.sqlite3":
    DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("CONN_MAX_AGE", default=60))
    DATABASES["default"].setdefault("CONN_HEALTH_CHECKS", True)

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Background work: Django's tasks API. The default backend keeps tasks in the
# database (worker: `manage.py db_worker`); TASK_BACKEND switches to another
# django.tasks backend (dotted path) with no code change.
TASKS = {
    "default": {
        "BACKEND": env("TASK_BACKEND", default="django_tasks_db.DatabaseBackend"),
        "QUEUES": [],
        "OPTIONS": {},
    }
}
# Scaling out (README): TASK_BACKEND=django_tasks_redis.RedisTaskBackend queues tasks in
# Redis at TASK_BROKER_URL, for workers on other machines (`manage.py run_redis_tasks`).
if TASKS["default"]["BACKEND"].startswith("django_tasks_redis."):
    INSTALLED_APPS.append("django_tasks_redis")
    TASKS["default"]["OPTIONS"] = {
        "REDIS_URL": env("TASK_BROKER_URL", default="redis://127.0.0.1:6379/0"),
        # The message row is the record of a send; a task's result is only for the admin.
        "REDIS_RESULT_TTL": env.int("TASK_RESULT_TTL", default=86400),
    }

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en"
# The languages customers are texted, called and shown pages in (Customer.language). A new one
# is a file: locale/<code>/LC_MESSAGES/django.po (see README "Languages"), plus a line here.
LANGUAGES = [("en", "English"), ("es", "Español")]
LOCALE_PATHS = [BASE_DIR / "locale"]
# TIME_ZONE is the shop's: see SHOP_TIME_ZONE under Orders.
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}
MEDIA_URL = "media/"
MEDIA_ROOT = env.path("MEDIA_ROOT", default=BASE_DIR / "media")

LOGIN_URL = "admin:login"
# Staff logins throttled per username and address (django-axes; staff/login.py).
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = env.int("LOGIN_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("LOGIN_LOCKOUT_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_CLIENT_IP_CALLABLE = "staff.login.client_ip"
LOGIN_PROXY_COUNT = env.int("LOGIN_PROXY_COUNT", default=0)

# Production hardening (see README, "Deploying"): on when DEBUG is off.
if not DEBUG:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SECURE_CONTENT_TYPE_NOSNIFF = True
    # Twilio webhooks are plain POSTs from Twilio's servers; the redirect must
    # not bounce them, so the webhook paths are exempt.
    SECURE_REDIRECT_EXEMPT = [r"^twilio/", r"^healthz$", r"^readyz$", r"^metrics$"]
elif env("SECURE_PROXY_SSL_HEADER", default=""):
    SECURE_PROXY_SSL_HEADER = (env("SECURE_PROXY_SSL_HEADER"), "https")

# Content-Security-Policy on every response (staff board, reports, admin, phone simulator):
# scripts and styles only from our own static files, or inline with this response's nonce
# ({% csp_nonce_attr %}, as Django's admin does); no inline handlers, style attributes or
# eval (htmx runs without it), no plugins, never framed. Django's own DEBUG error pages
# carry no nonce, so in the browser they show unstyled.
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF, CSP.NONCE],
    "style-src": [CSP.SELF, CSP.NONCE],
    "object-src": [CSP.NONE],
    "base-uri": [CSP.NONE],
    "form-action": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
}

# --- The shop ---------------------------------------------------------------
SHOP_NAME = env("SHOP_NAME", default="Tony's Pizzeria")
# ISO country of the shop: how local numbers are read, and (SMS_ALLOWED_COUNTRIES)
# where we are willing to send texts.
SHOP_COUNTRY = env("SHOP_COUNTRY", default="US")
PHONENUMBER_DEFAULT_REGION = SHOP_COUNTRY
PHONENUMBER_DB_FORMAT = "E164"

# --- Telephony --------------------------------------------------------------
TWILIO_ACCOUNT_SID = env("TWILIO_ACCOUNT_SID", default="")
TWILIO_AUTH_TOKEN = env("TWILIO_AUTH_TOKEN", default="")
TWILIO_PHONE_NUMBER = env("TWILIO_PHONE_NUMBER", default="+15005550006")
TWILIO_MESSAGING_SERVICE_SID = env("TWILIO_MESSAGING_SERVICE_SID", default="")
# The shop's WhatsApp sender (E.164, no "whatsapp:" prefix): replies to WhatsApp go back from
# the number the customer wrote to; stage texts and staff texts go on WhatsApp (inside its
# 24-hour session) only when this is set. Empty: those go by SMS.
TWILIO_WHATSAPP_NUMBER = env("TWILIO_WHATSAPP_NUMBER", default="")
TWILIO_API_BASE_URL = env("TWILIO_API_BASE_URL", default="")
TWILIO_HTTP_TIMEOUT = env.float("TWILIO_HTTP_TIMEOUT", default=10.0)
PUBLIC_BASE_URL = env("PUBLIC_BASE_URL", default="").rstrip("/")
# Where Twilio turns when PUBLIC_BASE_URL fails after its retries (`twilio_configure` sets the
# number's fallback URLs there): a second host running the app, ideally; by default the same.
# Texts the database could not take, kept on this machine's disk until the telephony worker
# stores them (telephony/spool.py). Shared by the web server and the worker.
# A worker silent this long (no heartbeat) is dead: the texts it was sending are looked up at
# Twilio and sent by another (telephony/processes.py; on the same host a dead pid is seen at
# once). Never less than 2 x TWILIO_HTTP_TIMEOUT + 10, so no send of a live worker is cut.
WORKER_DEAD_AFTER_SECONDS = env.int("WORKER_DEAD_AFTER_SECONDS", default=60)
# Every long-running process (web, task worker, telephony worker, late-order sweep) records a
# heartbeat (telephony/processes.py); off only for the test suite, which starts none.
PROCESS_HEARTBEATS = env.bool("PROCESS_HEARTBEATS", default=True)
# /readyz (pizzeria/health.py) fails when a text has waited this long for its answer, or
# when at least this share of the last texts Twilio reported on were refused or undelivered.
ALERT_REPLY_SECONDS = env.int("ALERT_REPLY_SECONDS", default=120)
ALERT_PROVIDER_FAILURE_RATE = env.float("ALERT_PROVIDER_FAILURE_RATE", default=0.5)
# The owner's phone: texted when trouble starts (at most once an hour) and when it ends
# (pizzeria/alerts.py); empty: the board's banner only.
ALERT_PHONE = env("ALERT_PHONE", default="")
# /metrics (pizzeria/metrics.py): for `Authorization: Bearer <METRICS_TOKEN>`, or clients in
# these networks (comma-separated CIDRs); with neither, /metrics is a 404.
METRICS_TOKEN = env("METRICS_TOKEN", default="")
METRICS_ALLOWED_NETWORKS = env.list("METRICS_ALLOWED_NETWORKS", default=[])
# `manage.py backup` (telephony/backup.py): where copies go, and how many are kept.
BACKUP_DIR = env("BACKUP_DIR", default=str(BASE_DIR / "var" / "backups"))
BACKUP_KEEP = env.int("BACKUP_KEEP", default=14)
# Run by the late-order sweep's loop as well as the telephony worker's sweeps.
ALERT_SWEEPS = ["pizzeria.alerts.sweep"]
TELEPHONY_SPOOL_DIR = env("TELEPHONY_SPOOL_DIR", default=str(BASE_DIR / "var" / "spool"))
TWILIO_FALLBACK_BASE_URL = env("TWILIO_FALLBACK_BASE_URL", default="").rstrip("/")
# Twilio's connection overrides, added to the webhook URLs `twilio_configure` sets: retry
# count and on what (4xx, 5xx, connect and read timeouts). Twilio signs the URL without them.
TWILIO_WEBHOOK_OVERRIDES = env("TWILIO_WEBHOOK_OVERRIDES", default="rc=3&rp=all")
# console when no Twilio credentials are set, twilio otherwise; or locmem, or a dotted path.
TELEPHONY_BACKEND = env(
    "TELEPHONY_BACKEND",
    default="twilio" if TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN else "console",
)
# Retry policy for outbound messages that failed for a reason that can pass.
SMS_MAX_ATTEMPTS = env.int("SMS_MAX_ATTEMPTS", default=6)
SMS_RETRY_BASE_SECONDS = env.float("SMS_RETRY_BASE_SECONDS", default=15.0)
# An outbox row left claimed this long by a process nobody knows is put back in the queue
# (a registered worker's claims go back as soon as it is seen dead: telephony/processes.py).
SMS_STUCK_AFTER_SECONDS = env.int("SMS_STUCK_AFTER_SECONDS", default=300)
# The telephony worker: seconds between polls for new work when idle (a few indexed
# queries each); on PostgreSQL a NOTIFY wakes it and it looks anyway every LISTEN_POLL
# seconds (a lost notification only delays; telephony/wakeup.py).
TELEPHONY_WORKER_POLL = env.float("TELEPHONY_WORKER_POLL", default=0.1)
# Replies a telephony worker waits for Twilio's answers to at once (telephony/outbox.py:
# coroutines on one event loop with the twilio backend, threads with the others): at least
# the reply rate times Twilio's answer time (200/s x 0.15 s = 30).
TELEPHONY_SEND_THREADS = env.int("TELEPHONY_SEND_THREADS", default=32)
# Longest a telephony worker answers texts in one transaction (one commit for a batch). On
# SQLite webhooks wait at most this long to store a text; longer batches cost fewer commits
# and turns at the lock (200 texts/s kept up with 0.03 and not with 0.02, bench/README.md).
TELEPHONY_BATCH_SECONDS = env.float("TELEPHONY_BATCH_SECONDS", default=0.03)
TELEPHONY_WORKER_LISTEN_POLL = env.float("TELEPHONY_WORKER_LISTEN_POLL", default=2.0)
# SMS pumping protection: countries we text (ISO codes; "*" for any), and the
# most automatic replies one number gets per hour.
SMS_ALLOWED_COUNTRIES = env.list("SMS_ALLOWED_COUNTRIES", default=[SHOP_COUNTRY])
SMS_REPLIES_PER_HOUR = env.int("SMS_REPLIES_PER_HOUR", default=30)
# Who gets an inbound text first: each handler returns a reply or None to pass.
TELEPHONY_SMS_HANDLERS = [
    "support.sms.handle_agent_sms",
    "orders.drivers.handle_driver_sms",
    "campaigns.consent.handle_keyword_sms",  # DEALS / NO DEALS / OFERTAS, nothing else
    "orders.conversation.handle_customer_sms",
]
# Told about texts that never reach those handlers: a lone opt-out word, and texts from
# senders we may not answer (kept for staff).
TELEPHONY_OPT_OUT_HANDLERS = ["orders.conversation.note_opt_out", "campaigns.consent.note_opt_out"]
TELEPHONY_UNANSWERED_HANDLERS = ["orders.conversation.keep_unanswered"]
# Different items (lines) one text order may have; a longer one is refused with the shop's
# number, and a quote that would not fit one text (1,600 characters) is never placeable.
ORDER_MAX_LINES = env.int("ORDER_MAX_LINES", default=20)
# Actions other apps offer in the orders admin (orders imports none of them).
ORDER_ADMIN_ACTIONS = ["support.admin.call_customer_with_order_status"]
# Clean-ups `manage.py telephony_worker` runs every minute.
TELEPHONY_SWEEPS = [
    "telephony.voice.tell_untold",
    "support.calls.sweep_stale_calls",
    "support.missed.text_missed_calls",
    "campaigns.services.sweep_campaigns",
    "orders.feedback.ask_due",
    "payments.services.sweep_payments",
    "pizzeria.alerts.sweep",
]
# Tests only: the outbox's consumer runs in the asker's thread when its transaction commits
# (telephony/outbox.py), as Django's ImmediateBackend runs tasks. Off, the telephony worker
# sends everything.
TELEPHONY_SEND_AT_COMMIT = False
# Told how each queued voice request (ring, redirect, end a call) ended.
TELEPHONY_CALL_HANDLERS = ["support.outcomes.provider_request_finished"]

# --- Support line -----------------------------------------------------------
# How long an agent's phone rings before the next agent on shift is tried.
SUPPORT_RING_TIMEOUT = env.int("SUPPORT_RING_TIMEOUT", default=20)
# An agent who picks up presses 1 to take the call, so an agent's voicemail that
# answers the ring is never bridged to the caller (the next agent is rung instead).
# Off: whoever picks up is connected at once (desk phones without voicemail).
SUPPORT_AGENT_PRESS_1 = env.bool("SUPPORT_AGENT_PRESS_1", default=True)
# A call still open this long after it began (or was answered) lost its final status
# callback; the worker's sweep ends it and frees its agent (support.calls).
SUPPORT_STALE_CALL_HOURS = env.int("SUPPORT_STALE_CALL_HOURS", default=4)
# Every missed call becomes a text (support/missed.py): a caller who hung up before reaching
# anyone, or left no voicemail, is texted "Sorry we missed your call..." once the call has
# been over DELAY seconds (a voicemail may be posted after the hang-up), at most one per
# number per HOURS. false: never.
MISSED_CALL_TEXT = env.bool("MISSED_CALL_TEXT", default=True)
MISSED_CALL_TEXT_HOURS = env.int("MISSED_CALL_TEXT_HOURS", default=12)
MISSED_CALL_TEXT_DELAY_SECONDS = env.int("MISSED_CALL_TEXT_DELAY_SECONDS", default=30)
# How long a call with an agent takes, in minutes, for the likely wait callers on hold are
# told until the line has answered calls of its own to go by (support.calls.place_in_line).
SUPPORT_TALK_MINUTES = env.float("SUPPORT_TALK_MINUTES", default=3.0)
# A caller on hold longer than this (seconds) is offered voicemail instead.
SUPPORT_MAX_WAIT_SECONDS = env.int("SUPPORT_MAX_WAIT_SECONDS", default=180)
# Longest voicemail a caller may leave, in seconds.
SUPPORT_VOICEMAIL_MAX_SECONDS = env.int("SUPPORT_VOICEMAIL_MAX_SECONDS", default=120)
# Ask Twilio for a (paid) transcript of each voicemail.
SUPPORT_TRANSCRIBE_VOICEMAIL = env.bool("SUPPORT_TRANSCRIBE_VOICEMAIL", default=False)
# Record conversations between callers and agents (tell callers; laws differ).
SUPPORT_RECORD_CALLS = env.bool("SUPPORT_RECORD_CALLS", default=False)
# What callers hear on hold, looped between hold messages (empty: silence).
SUPPORT_HOLD_MUSIC_URL = env(
    "SUPPORT_HOLD_MUSIC_URL",
    default="http://com.twilio.sounds.music.s3.amazonaws.com/MARKOVICHAMP-Borghestral.mp3",
)
# The <Say> attributes for callers in each language (Customer.language); a language not
# listed gets Twilio's default voice (English).
SUPPORT_VOICES = {"es": {"language": "es-US", "voice": "Polly.Lupe"}}
# The language Twilio's speech recognition listens for, by the caller's language; and the
# Confidence (0-1) under which what it heard is asked again rather than acted on.
SUPPORT_SPEECH_LANGUAGES = {"en": "en-US", "es": "es-US"}
SUPPORT_SPEECH_MIN_CONFIDENCE = env.float("SUPPORT_SPEECH_MIN_CONFIDENCE", default=0.2)

# --- Orders -----------------------------------------------------------------
# Opening hours and the shop's time zone; a malformed value stops start-up
# (checked in orders.apps). Days mon..sun, ranges and lists, 24h times; "24/7".
# Unset, a development shop (DEBUG) is open around the clock, so scripts/run, the phone
# simulator and `manage.py simulate_sms` all take orders at any hour, as one shop.
SHOP_HOURS = env(
    "SHOP_HOURS",
    default="24/7" if DEBUG else "mon-thu 11:00-22:00; fri-sat 11:00-23:30; sun 12:00-21:00",
)
SHOP_TIME_ZONE = env("SHOP_TIME_ZONE", default="America/New_York")
# Django's zone is the shop's, so the admin, forms and templates show the times staff live
# by (the database keeps UTC, USE_TZ). A malformed name leaves UTC here, and orders.apps
# stops start-up saying what is wrong with SHOP_TIME_ZONE.
try:
    ZoneInfo(SHOP_TIME_ZONE)
    TIME_ZONE = SHOP_TIME_ZONE
except (ValueError, ZoneInfoNotFoundError):
    TIME_ZONE = "UTC"
# The number customers call, named in HELP replies (default: the Twilio number).
SHOP_PHONE = env("SHOP_PHONE", default="") or TWILIO_PHONE_NUMBER
# A quote waits this long for the customer's YES.
ORDER_QUOTE_MINUTES = env.int("ORDER_QUOTE_MINUTES", default=30)
# Promised times: minutes from placing to ready (pickup) or at the door (delivery).
ORDER_PICKUP_MINUTES = env.int("ORDER_PICKUP_MINUTES", default=20)
ORDER_DELIVERY_MINUTES = env.int("ORDER_DELIVERY_MINUTES", default=40)
# Pizzas the kitchen makes in 10 minutes: each full batch of that many already received,
# preparing or baking adds 10 minutes to a new order's promised time (orders.billing);
# staff change it on the board. 0 ignores the kitchen's load.
KITCHEN_PIZZAS_PER_10_MIN = env.int("KITCHEN_PIZZAS_PER_10_MIN", default=8)
# "How was your order #1042? Reply 1-5": one text this long after an order is delivered or
# picked up, at most one a customer every FEEDBACK_EVERY_DAYS; a reply within
# FEEDBACK_REPLY_HOURS is its score (orders/feedback.py). FEEDBACK_TEXT=false: none.
FEEDBACK_TEXT = env.bool("FEEDBACK_TEXT", default=True)
FEEDBACK_DELAY_MINUTES = env.int("FEEDBACK_DELAY_MINUTES", default=45)
FEEDBACK_EVERY_DAYS = env.int("FEEDBACK_EVERY_DAYS", default=7)
FEEDBACK_REPLY_HOURS = env.int("FEEDBACK_REPLY_HOURS", default=48)
# When an order passes its promised time, the customer is texted a new one this much later.
ORDER_LATE_EXTRA_MINUTES = env.int("ORDER_LATE_EXTRA_MINUTES", default=15)
# Money. Sales tax on the food (a fraction: 0.08875 is 8.875%), added to every quote; a
# delivery fee added to deliveries, which need DELIVERY_MINIMUM of food (before tax); and the
# ZIP codes delivered to (empty: anywhere; else a delivery address must end in one of them).
SHOP_TAX_RATE = env("SHOP_TAX_RATE", default="0")
DELIVERY_FEE = env("DELIVERY_FEE", default="0")
DELIVERY_MINIMUM = env("DELIVERY_MINIMUM", default="0")
DELIVERY_ZIP_CODES = env.list("DELIVERY_ZIP_CODES", default=[])

# --- Payments (Stripe; payments/) --------------------------------------------------
# Without STRIPE_SECRET_KEY nothing here is on: orders are paid at the door, as always.
# With it, every placed order gets a Checkout Session (a payment page) made by the telephony
# worker through the outbox, and its page a "Pay now" button. STRIPE_WEBHOOK_SECRET checks
# /stripe/webhook/ (manage.py stripe_configure registers it). STRIPE_API_BASE points the SDK
# at a stand-in, as TWILIO_API_BASE_URL does for Twilio.
STRIPE_SECRET_KEY = env("STRIPE_SECRET_KEY", default="")
STRIPE_WEBHOOK_SECRET = env("STRIPE_WEBHOOK_SECRET", default="")
STRIPE_API_BASE = env("STRIPE_API_BASE", default="").rstrip("/")
# Orders whose total is above this wait, unseen by the kitchen and texting nothing, until
# paid ("awaiting payment"); empty: never required, 0: always. Not paid within
# PAYMENT_WINDOW_MINUTES (30 at least: Stripe's shortest), such an order is cancelled with a
# text, after one reminder.
PAYMENT_REQUIRED_ABOVE = env("PAYMENT_REQUIRED_ABOVE", default="")
PAYMENT_WINDOW_MINUTES = max(30, env.int("PAYMENT_WINDOW_MINUTES", default=30))
# The shop's currency (ISO 4217, lower case), as Stripe names it.
SHOP_CURRENCY = env("SHOP_CURRENCY", default="usd").lower()
# Phone orders above the limit may pay by keypad with Twilio's <Pay> through this Pay
# connector (the name given to Stripe's connector in Twilio's console); empty: by the link.
TWILIO_PAY_CONNECTOR = env("TWILIO_PAY_CONNECTOR", default="")

# Asked after an order placed by text, each may add a line to the confirmation:
# `hook(order, message, language) -> str | None` (the one-time offer of promotions).
ORDER_PLACED_HOOKS = ["campaigns.consent.offer_after_order"]
# Which stages text the customer (wording: orders/templates/orders/sms/stage_<stage>.txt).
ORDER_SMS_STAGES = env.list(
    "ORDER_SMS_STAGES",
    default=["baking", "ready_for_pickup", "out_for_delivery", "delivered", "cancelled"],
)
# The customer's order page (/o/<token>/, linked from the texts; orders/pages.py): the shop's
# address on receipts, how many days after an order is finished its page still shows it,
# and page requests one address may make per minute (429 beyond). Behind a proxy, name the
# header holding the client's address (e.g. HTTP_X_FORWARDED_FOR; its last entry is used).
SHOP_ADDRESS = env("SHOP_ADDRESS", default="")
ORDER_PAGE_DAYS = env.int("ORDER_PAGE_DAYS", default=30)
ORDER_PAGE_REQUESTS_PER_MINUTE = env.int("ORDER_PAGE_REQUESTS_PER_MINUTE", default=60)
ORDER_PAGE_IP_HEADER = env("ORDER_PAGE_IP_HEADER", default="")

# --- Staff board and simulator ---------------------------------------------
# The phone simulator at /dev/phone/ drives the real webhooks with signed requests. It is on
# with DEBUG (except with the twilio backend, where it would call and text real phones) or
# when this is true (outside DEBUG then only for staff logins; see simulator/views.py);
# otherwise /dev/phone/ is a 404.
PHONE_SIMULATOR_ENABLED = env.bool("PHONE_SIMULATOR_ENABLED", default=False)
if DEBUG or PHONE_SIMULATOR_ENABLED:
    INSTALLED_APPS.append("simulator")

# --- Promotions -------------------------------------------------------------
# Serve uploaded campaign pictures (MEDIA_ROOT at MEDIA_URL) from Django, so Twilio can
# fetch MMS media under PUBLIC_BASE_URL; off when the web server serves them itself.
SERVE_MEDIA = env.bool("SERVE_MEDIA", default=True)
# Texts a second the sender may send (Twilio: 1 for a long code, 3 for toll-free, 100 for a
# short code; a Messaging Service adds its numbers' rates up). Promotions are paced to it,
# minus what order texts use, so Twilio's queue never fills (error 30001).
SMS_MPS = env.float("SMS_MPS", default=1.0)
# Promotions arrive only between these local times of the recipient (their number's zone).
CAMPAIGN_SEND_FROM = env("CAMPAIGN_SEND_FROM", default="08:00")
CAMPAIGN_SEND_UNTIL = env("CAMPAIGN_SEND_UNTIL", default="21:00")
# An order placed this long after a customer's campaign text counts for that campaign.
CAMPAIGN_ATTRIBUTION_HOURS = env.int("CAMPAIGN_ATTRIBUTION_HOURS", default=48)

# Error pages and error reports hide any variable holding the Twilio auth token.
DEFAULT_EXCEPTION_REPORTER_FILTER = "telephony.logging.HideAuthToken"

# Error reports to Sentry (sentry-sdk) when SENTRY_DSN is set: no local variables, no request
# bodies, phone numbers masked and what customers wrote removed (telephony.logging.scrub_event).
SENTRY_DSN = env("SENTRY_DSN", default="")
if SENTRY_DSN:
    import sentry_sdk

    from telephony.logging import scrub_event

    sentry_sdk.init(
        dsn=SENTRY_DSN,
        environment=env("SENTRY_ENVIRONMENT", default="production"),
        send_default_pii=False,
        include_local_variables=False,
        max_request_body_size="never",
        before_send=scrub_event,
        traces_sample_rate=0,
    )

# Plain lines by default (scripts/run); LOG_FORMAT=json: one JSON object a line, with the
# request id and the MessageSid / CallSid / order number a line concerns, and one line per
# request and per text the worker answers (telephony/logging.py, pizzeria/logs.py).
LOG_FORMAT = env("LOG_FORMAT", default="plain")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "mask_numbers": {"()": "telephony.logging.MaskPhoneNumbers"},
        "quiet_repeats": {"()": "telephony.logging.QuietRepeats"},
        "concerns": {"()": "telephony.logging.Concerns"},
    },
    "formatters": {
        "plain": {
            "()": "telephony.logging.Formatter",
            "format": "%(asctime)s %(levelname)s %(name)s: %(message)s",
        },
        "json": {
            "()": "telephony.logging.JsonFormatter",
            "format": "%(asctime)s %(levelname)s %(name)s %(message)s",
            "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
        },
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "json" if LOG_FORMAT == "json" else "plain",
            "filters": ["mask_numbers", "quiet_repeats", "concerns"],
        }
    },
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", default="INFO")},
    "loggers": {
        "django": {"handlers": ["console"], "level": "INFO", "propagate": False},
        # The Twilio SDK logs every request's headers, parameters and response at INFO
        # (about 12 lines a text, from twilio.http_client and twilio.async_http_client);
        # TWILIO_LOG_LEVEL=INFO brings them back when debugging.
        "twilio": {"level": env("TWILIO_LOG_LEVEL", default="WARNING")},
        # Stripe's SDK logs each request's address at INFO: kept at WARNING like Twilio's.
        "stripe": {"level": env("STRIPE_LOG_LEVEL", default="WARNING")},
    },
}
