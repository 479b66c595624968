"""Settings from the environment, the only configuration channel (devenv and production alike)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field

# Environment variables whose values must never reach a log line or a response.
SECRET_ENV = ("DATABASE_PASSWORD", "POSTGRES_PASSWORD", "PAYMENTS_API_KEY")

_TRUE = {"1", "true", "yes", "on"}


def features_from_env(env: Mapping[str, str]) -> dict[str, bool]:
    """``FEATURE_NEW_CHECKOUT=true`` -> ``{"new_checkout": True}`` (devenv and prod set these)."""
    return {
        key[len("FEATURE_") :].lower(): value.strip().lower() in _TRUE
        for key, value in sorted(env.items())
        if key.startswith("FEATURE_") and len(key) > len("FEATURE_")
    }


def _int(env: Mapping[str, str], key: str, default: int) -> int:
    raw = env.get(key, "").strip()
    try:
        return int(raw) if raw else default
    except ValueError:
        return default


def _float(env: Mapping[str, str], key: str, default: float) -> float:
    raw = env.get(key, "").strip()
    try:
        value = float(raw) if raw else default
    except ValueError:
        return default
    return value if value > 0 else default


@dataclass(frozen=True)
class Settings:
    """One component's view of its tenant. ``db_password`` is kept out of ``repr``."""

    tenant: str = "dev"
    title: str = "Shop"
    currency: str = "EUR"
    db_host: str = "postgres"
    db_port: int = 5432
    db_name: str = "shop"
    db_user: str = "shop"
    db_password: str = field(default="", repr=False)
    redis_url: str = "redis://redis:6379/0"
    features: dict[str, bool] = field(default_factory=dict)
    log_level: str = "info"
    port: int = 8000
    worker_concurrency: int = 1
    schedule_interval: float = 30.0

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        tenant = env.get("TENANT", "dev")
        return cls(
            tenant=tenant,
            title=env.get("SHOP_TITLE", tenant),
            currency=env.get("SHOP_CURRENCY", "EUR"),
            db_host=env.get("DATABASE_HOST", "postgres"),
            db_port=_int(env, "DATABASE_PORT", 5432),
            db_name=env.get("DATABASE_NAME", "shop"),
            db_user=env.get("DATABASE_USER", "shop"),
            db_password=env.get("DATABASE_PASSWORD", ""),
            redis_url=env.get("REDIS_URL", "redis://redis:6379/0"),
            features=features_from_env(env),
            log_level=env.get("LOG_LEVEL", "info").lower(),
            port=_int(env, "PORT", 8000),
            worker_concurrency=max(1, _int(env, "WORKER_CONCURRENCY", 1)),
            schedule_interval=_float(env, "SCHEDULE_INTERVAL", 30.0),
        )
