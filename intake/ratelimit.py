"""Rate limits per API key: a token bucket, in the process by default, in Redis when configured.

Each key has a bucket of `burst` tokens refilled at `rate_per_minute`; a request takes one token or
is refused with the seconds until one is back (the 429's Retry-After). In one process a dict under a
lock is exact; several API processes share buckets through Redis (`CLAIMS_INTAKE_REDIS_URL`), where a
Lua script takes the token atomically. If Redis cannot be reached the process falls back to its own
buckets and says so in the log: a limiter outage must not close the door on claims.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable
from typing import Protocol

from pipeline.errors import ConfigError
from pipeline.settings import Settings

log = logging.getLogger(__name__)


class RateLimiter(Protocol):
    def take(self, key: str, rate_per_minute: float, burst: int) -> float:
        """Take one token: 0.0 if allowed, else the seconds until a token is back."""
        ...


class MemoryBuckets:
    """Token buckets in this process; `clock` is injectable so tests need not sleep."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self._buckets: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def take(self, key: str, rate_per_minute: float, burst: int) -> float:
        rate = max(rate_per_minute, 1e-9) / 60.0
        capacity = max(1, burst)
        now = self.clock()
        with self._lock:
            tokens, last = self._buckets.get(key, (float(capacity), now))
            tokens = min(float(capacity), tokens + (now - last) * rate)
            if tokens >= 1.0:
                self._buckets[key] = (tokens - 1.0, now)
                return 0.0
            self._buckets[key] = (tokens, now)
            return (1.0 - tokens) / rate


_LUA = """
local capacity = tonumber(ARGV[1])
local rate = tonumber(ARGV[2])
local now = tonumber(ARGV[3])
local state = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = tonumber(state[1]) or capacity
local at = tonumber(state[2]) or now
tokens = math.min(capacity, tokens + math.max(0, now - at) * rate)
local wait = 0
if tokens >= 1 then tokens = tokens - 1 else wait = (1 - tokens) / rate end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'at', tostring(now))
redis.call('EXPIRE', KEYS[1], math.ceil(capacity / rate) + 60)
return tostring(wait)
"""


class RedisBuckets:
    """Token buckets shared by every API process through Redis; per-process buckets if it is down."""

    def __init__(self, url: str, prefix: str = "claims:intake:bucket:") -> None:
        try:
            import redis
        except ImportError as exc:  # pragma: no cover - redis ships with the locked set
            raise ConfigError(
                'CLAIMS_INTAKE_REDIS_URL needs the redis client: pip install "redis>=5"'
            ) from exc
        self.prefix = prefix
        self._client = redis.Redis.from_url(url, socket_timeout=0.5, socket_connect_timeout=0.5)
        self._script = self._client.register_script(_LUA)
        self._fallback = MemoryBuckets()
        self._warned = False

    def take(self, key: str, rate_per_minute: float, burst: int) -> float:
        rate = max(rate_per_minute, 1e-9) / 60.0
        try:
            wait = float(self._script(keys=[self.prefix + key], args=[max(1, burst), rate, time.time()]))
        except Exception as exc:  # any Redis failure: limit in-process rather than refuse everyone
            if not self._warned:
                log.warning("rate limits: Redis unreachable (%s); limiting per process", exc)
                self._warned = True
            return self._fallback.take(key, rate_per_minute, burst)
        self._warned = False
        return wait


def make_limiter(settings: Settings) -> RateLimiter:
    """Redis buckets when `intake_redis_url` is set, else this process's own."""
    if settings.intake_redis_url:
        return RedisBuckets(settings.intake_redis_url)
    return MemoryBuckets()


def retry_after(wait: float) -> str:
    """The Retry-After header's whole seconds, never 0."""
    return str(max(1, math.ceil(wait)))
