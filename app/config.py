"""Configuration classes, read from the environment and validated at start.

`load_config()` picks the class from `JIFEN_ENV`; tests pass `TestingConfig`
(or a subclass) to `create_app` directly.
"""
from __future__ import annotations

import os
import secrets
from pathlib import Path

from cryptography.fernet import Fernet

ROOT = Path(__file__).resolve().parent.parent
INSTANCE = ROOT / "instance"


class ConfigError(RuntimeError):
    """A setting is missing or malformed; the message is one line for the operator."""


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    value = raw.strip().lower()
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off"}:
        return False
    raise ConfigError(f"{name} must be true or false, not {raw!r}")


def env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise ConfigError(f"{name} must be an integer, not {raw!r}") from None


def env_float(name: str, default: float) -> float:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        return float(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a number, not {raw!r}") from None


def normalise_database_url(url: str) -> str:
    """`postgres://` and `postgresql://` go through psycopg 3."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


def _instance_secret(filename: str, make: callable) -> str:
    """Read a development secret from instance/, creating it on first use."""
    INSTANCE.mkdir(parents=True, exist_ok=True)
    path = INSTANCE / filename
    if not path.exists():
        path.write_text(make())
        path.chmod(0o600)
    return path.read_text().strip()


class Config:
    ENV_NAME = "development"
    TESTING = False
    DEBUG = False

    SQLALCHEMY_TRACK_MODIFICATIONS = False
    SQLALCHEMY_ENGINE_OPTIONS: dict = {}  # set per database in __init__

    MAX_CONTENT_LENGTH = 1024 * 1024  # 1 MiB; larger bodies are PAYLOAD_TOO_LARGE
    JSON_SORT_KEYS = False

    WTF_CSRF_TIME_LIMIT = None  # the token lives as long as the session
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = False
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"

    BABEL_DEFAULT_LOCALE = "en"
    BABEL_DEFAULT_TIMEZONE = "UTC"
    LANGUAGES = ("en", "zh_Hans_CN")

    ACCESS_TOKEN_TTL_SECONDS = 15 * 60
    REFRESH_TOKEN_TTL_SECONDS = 30 * 24 * 3600
    IDEMPOTENCY_TTL_SECONDS = 24 * 3600
    # The API's rate limits: a Redis outage falls back to per-process counting
    # instead of failing requests, and a hung Redis costs at most half a second.
    RATELIMIT_IN_MEMORY_FALLBACK_ENABLED = True
    RATELIMIT_STORAGE_OPTIONS = {"socket_timeout": 0.5, "socket_connect_timeout": 0.5}

    def __init__(self) -> None:
        self.DATABASE_URL = normalise_database_url(
            os.environ.get("DATABASE_URL") or f"sqlite:///{INSTANCE / 'jifen.db'}"
        )
        self.SQLALCHEMY_DATABASE_URI = self.DATABASE_URL
        self.SECRET_KEY = os.environ.get("SECRET_KEY") or self._dev_secret_key()
        keys = os.environ.get("FIELD_ENCRYPTION_KEY") or self._dev_field_key()
        self.FIELD_ENCRYPTION_KEYS = [k.strip() for k in keys.split(",") if k.strip()]
        for key in self.FIELD_ENCRYPTION_KEYS:
            try:
                Fernet(key)
            except ValueError:
                raise ConfigError(
                    "FIELD_ENCRYPTION_KEY must be Fernet keys (urlsafe base64, 32 bytes), comma-separated"
                ) from None
        self.REDIS_URL = os.environ.get("REDIS_URL") or None
        self.SENTRY_DSN = os.environ.get("SENTRY_DSN") or None
        self.SENTRY_ENVIRONMENT = os.environ.get("SENTRY_ENVIRONMENT") or self.ENV_NAME
        self.SENTRY_RELEASE = os.environ.get("SENTRY_RELEASE") or None
        self.SENTRY_TRACES_SAMPLE_RATE = env_float("SENTRY_TRACES_SAMPLE_RATE", 0.0)
        self.BACKUP_DIR = os.environ.get("BACKUP_DIR") or str(INSTANCE / "backups")
        # The task queue (Huey): memory, sqlite:///FILE or redis://…
        self.TASK_QUEUE = os.environ.get("TASK_QUEUE") or self.REDIS_URL or \
            f"sqlite:///{INSTANCE / 'tasks.db'}"
        self.WORKER_THREADS = env_int("WORKER_THREADS", 16)
        self.WORKER_METRICS_PORT = env_int("WORKER_METRICS_PORT", 0)
        self.WEBHOOK_TIMEOUT_SECONDS = env_float("WEBHOOK_TIMEOUT_SECONDS", 10.0)
        self.WEBHOOK_LEASE_SECONDS = env_float("WEBHOOK_LEASE_SECONDS", 60.0)
        # The API's limits (Flask-Limiter); the sign-in lockout ignores it.
        self.RATELIMIT_ENABLED = env_bool("RATELIMIT_ENABLED", True)
        self.RATELIMIT_STORAGE_URI = self.REDIS_URL or "memory://"
        defaults = os.environ.get("RATELIMIT_DEFAULTS") or "100/hour,1000/hour,500/hour"
        parts = [p.strip() for p in defaults.split(",")]
        if len(parts) != 3 or not all(parts):
            raise ConfigError(
                "RATELIMIT_DEFAULTS must be three limits: anonymous,authenticated,points"
                " (e.g. 100/hour,1000/hour,500/hour)"
            )
        self.RATELIMIT_ANONYMOUS, self.RATELIMIT_AUTHENTICATED, self.RATELIMIT_POINTS = parts
        self.ACCESS_TOKEN_TTL_SECONDS = env_int("ACCESS_TOKEN_TTL_SECONDS", self.ACCESS_TOKEN_TTL_SECONDS)
        # How long a request may wait on PostgreSQL for one round trip, for a
        # pooled connection (pool_timeout) or a new one (connect_timeout, whole
        # seconds, at least 2 in libpq) before it answers 503 (app/database.py).
        self.DB_REQUEST_TIMEOUT = env_float("DB_REQUEST_TIMEOUT", 5.0)
        if not 0 < self.DB_REQUEST_TIMEOUT <= 300:
            raise ConfigError("DB_REQUEST_TIMEOUT must be a number of seconds, more than 0")
        # A portal session ends after this long unused, and this long after sign-in.
        self.SESSION_IDLE_MINUTES = env_int("SESSION_IDLE_MINUTES", 120)
        self.SESSION_MAX_HOURS = env_int("SESSION_MAX_HOURS", 12)
        if self.SESSION_IDLE_MINUTES < 1 or self.SESSION_MAX_HOURS < 1:
            raise ConfigError("SESSION_IDLE_MINUTES and SESSION_MAX_HOURS must be 1 or more")
        if self.DATABASE_URL.startswith("sqlite"):
            # SQLite serialises writers itself; a generous busy timeout lets them queue.
            self.SQLALCHEMY_ENGINE_OPTIONS = {"connect_args": {"timeout": 30}}
        else:
            self.SQLALCHEMY_ENGINE_OPTIONS = {
                # A ping is a round trip on every request. Without it, a connection
                # that died (a database restart) fails its request with 503 and
                # Retry-After, and the pool drops every connection as old as it.
                "pool_pre_ping": env_bool("DB_POOL_PRE_PING", False),
                # ...and connections are replaced before an idle timeout on the way
                # (a pooler, a firewall, idle_session_timeout) can close them.
                "pool_recycle": env_int("DB_POOL_RECYCLE", 1800),
                "pool_size": env_int("DB_POOL_SIZE", 10),
                "max_overflow": env_int("DB_MAX_OVERFLOW", 10),
                "pool_timeout": self.DB_REQUEST_TIMEOUT,
                "connect_args": {"connect_timeout": self.connect_timeout()},
            }

        self._load_operations_settings()

    def connect_timeout(self) -> int:
        """libpq's connect_timeout: whole seconds, 2 at least; 3 unless the deadline is shorter."""
        return max(2, min(3, int(self.DB_REQUEST_TIMEOUT)))

    def _load_operations_settings(self) -> None:
        """Health, metrics, hardening and support settings (issue 4)."""
        self.SUPPORT_CONTACT = os.environ.get("SUPPORT_CONTACT") or None
        self.STATUS_PAGE_URL = os.environ.get("STATUS_PAGE_URL") or None
        self.METRICS_TOKEN = os.environ.get("METRICS_TOKEN") or None
        self.HEALTH_CHECK_TIMEOUT = env_float("HEALTH_CHECK_TIMEOUT", 2.0)
        self.HEALTH_DISK_DEGRADED_PERCENT = env_float("HEALTH_DISK_DEGRADED_PERCENT", 90.0)
        self.MAINTENANCE_CACHE_SECONDS = env_float("MAINTENANCE_CACHE_SECONDS", 5.0)
        # ProxyFix: how many proxies to trust for each X-Forwarded-* header (0 = ignore it).
        for header in ("FOR", "PROTO", "HOST", "PORT", "PREFIX"):
            name = f"PROXY_FIX_X_{header}"
            setattr(self, name, env_int(name, 0))
            if getattr(self, name) < 0:
                raise ConfigError(f"{name} must be 0 or more")
        self.FORCE_HTTPS = env_bool("FORCE_HTTPS", self.ENV_NAME == "production")
        self.HSTS_SECONDS = env_int("HSTS_SECONDS", 31536000)
        if self.REDIS_URL:
            # Redis errors must not break a read: the cache falls back to the database.
            self.CACHE_TYPE = "app.ops.cache.ResilientRedisCache"
            self.CACHE_REDIS_URL = self.REDIS_URL
            self.CACHE_OPTIONS = {"socket_timeout": 0.5, "socket_connect_timeout": 0.5}

    def _dev_secret_key(self) -> str:
        return _instance_secret("secret_key", lambda: secrets.token_urlsafe(48))

    def _dev_field_key(self) -> str:
        return _instance_secret("field_encryption_key", lambda: Fernet.generate_key().decode())


class DevelopmentConfig(Config):
    ENV_NAME = "development"


class ProductionConfig(Config):
    ENV_NAME = "production"
    SESSION_COOKIE_SECURE = True
    REMEMBER_COOKIE_SECURE = True
    PREFERRED_URL_SCHEME = "https"

    def _dev_secret_key(self) -> str:
        raise ConfigError("SECRET_KEY must be set in production")

    def _dev_field_key(self) -> str:
        raise ConfigError("FIELD_ENCRYPTION_KEY must be set in production")


class TestingConfig(Config):
    ENV_NAME = "testing"
    TESTING = True
    WTF_CSRF_ENABLED = True

    def __init__(self, database_url: str | None = None) -> None:
        super().__init__()
        if database_url:
            self.DATABASE_URL = normalise_database_url(database_url)
            self.SQLALCHEMY_DATABASE_URI = self.DATABASE_URL
            if not self.DATABASE_URL.startswith("sqlite"):
                self.SQLALCHEMY_ENGINE_OPTIONS = {
                    "pool_size": 20, "max_overflow": 60, "pool_timeout": self.DB_REQUEST_TIMEOUT,
                    "connect_args": {"connect_timeout": self.connect_timeout()},
                }
            else:
                self.SQLALCHEMY_ENGINE_OPTIONS = {"connect_args": {"timeout": 30}}
        self.RATELIMIT_ENABLED = False
        # Tests enqueue nowhere unless they start a worker (then they name a file).
        self.TASK_QUEUE = os.environ.get("TASK_QUEUE") or "memory"

    def _dev_secret_key(self) -> str:
        return "testing-secret-key-not-for-production"

    def _dev_field_key(self) -> str:
        # A fixed, public test key: never used outside the test suite.
        return "zcHrp8KwAtJ3F9Nq3n1wQp1Y3LrKXvmxPZKqJp2yW0U="


CONFIGS = {
    "development": DevelopmentConfig,
    "production": ProductionConfig,
    "testing": TestingConfig,
}


def load_config() -> Config:
    name = os.environ.get("JIFEN_ENV", "development").strip().lower()
    if name not in CONFIGS:
        raise ConfigError(f"JIFEN_ENV must be one of {', '.join(CONFIGS)}, not {name!r}")
    return CONFIGS[name]()
