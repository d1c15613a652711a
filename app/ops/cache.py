"""A Redis cache that never breaks a request: when Redis is down or slow, reads
miss (the caller reads the database) and writes are dropped, with a warning."""
from __future__ import annotations

import logging
from typing import Any

from flask_caching.backends.rediscache import RedisCache
from redis.exceptions import RedisError

log = logging.getLogger("jifen.cache")


class ResilientRedisCache(RedisCache):
    """A delete that fails is remembered and retried before this process's next
    cache operation, so an invalidation lost to an outage is redone as soon as
    Redis answers again (until then nobody can read the stale entry either)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._pending_deletes: set[str] = set()

    def _safely(self, operation: str, default: Any, fn: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            if self._pending_deletes:
                self._retry_deletes()
            return fn(*args, **kwargs)
        except (RedisError, OSError) as exc:
            log.warning("cache unavailable", extra={"operation": operation,
                                                    "error": type(exc).__name__})
            return default

    def _retry_deletes(self) -> None:
        keys = list(self._pending_deletes)
        self._write_client.delete(*(self._get_prefix() + k for k in keys))
        self._pending_deletes.difference_update(keys)

    def get(self, key: str) -> Any:
        return self._safely("get", None, super().get, key)

    def get_many(self, *keys: str) -> list[Any]:
        return self._safely("get_many", [None] * len(keys), super().get_many, *keys)

    def has(self, key: str) -> bool:
        return self._safely("has", False, super().has, key)

    def set(self, key: str, value: Any, timeout: int | None = None) -> Any:
        return self._safely("set", False, super().set, key, value, timeout)

    def add(self, key: str, value: Any, timeout: int | None = None) -> Any:
        return self._safely("add", False, super().add, key, value, timeout)

    def delete(self, key: str) -> bool:
        return bool(self.delete_many(key))

    def delete_many(self, *keys: str) -> list[str]:
        if not keys:
            return []
        try:
            if self._pending_deletes:
                self._retry_deletes()
            self._write_client.delete(*(self._get_prefix() + k for k in keys))
        except (RedisError, OSError) as exc:
            self._pending_deletes.update(keys)
            log.warning("cache unavailable; invalidation queued",
                        extra={"operation": "delete", "error": type(exc).__name__})
            return []
        return list(keys)
