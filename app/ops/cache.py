"""A Redis cache that never breaks a request: when Redis is down or slow, reads
miss (the caller reads the database) and writes are dropped, with a warning."""
from __future__ import annotations

import logging
from typing import Any

from flask_caching.backends.rediscache import RedisCache
from redis.exceptions import RedisError

log = logging.getLogger("jifen.cache")


class ResilientRedisCache(RedisCache):
    def _safely(self, operation: str, default: Any, fn: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except (RedisError, OSError) as exc:
            log.warning("cache unavailable", extra={"operation": operation,
                                                    "error": type(exc).__name__})
            return default

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
        return self._safely("delete", False, super().delete, key)

    def delete_many(self, *keys: str) -> Any:
        return self._safely("delete_many", [], super().delete_many, *keys)
