"""The API's per-user rate limit, kept as two counters in the cache.

DRF's ``UserRateThrottle`` stores the time of every request in the window (6,000 of them at the
default rate) and reads and rewrites that whole list on every request. This one keeps a counter per
fixed window and weighs the previous window's count by the share of it that still lies within the
sliding window (the usual sliding-window approximation): a few bytes per user, no database, and on
Redis one round trip per request (count, keep, read the previous window, in one pipeline).
"""

from __future__ import annotations

import time

from django.core.cache.backends.redis import RedisCache
from django.utils.connection import ConnectionProxy
from rest_framework import throttling


class UserRateThrottle(throttling.UserRateThrottle):
    """The limit and the cache key of DRF's, counted instead of logged. A refused request is not
    counted, as in DRF."""

    num_requests: int
    duration: int
    current = 0  # this window's requests before this one
    previous = 0
    elapsed = 0.0

    def timer(self) -> float:
        """Looked up when called: DRF's ``timer = time.time``, when first imported while a test
        froze the clock, keeps the fake function as a method for the rest of the process."""
        return time.time()

    def allow_request(self, request, view) -> bool:
        if self.rate is None:
            return True
        self.key = self.get_cache_key(request, view)
        if self.key is None:
            return True
        self.now = self.timer()
        window = int(self.now // self.duration)
        current_key, previous_key = f"{self.key}:{window}", f"{self.key}:{window - 1}"
        self.elapsed = self.now - window * self.duration
        counted, self.previous = self._count(current_key, previous_key)
        self.current = counted - 1
        if self._estimate() + 1 > self.num_requests:  # this request would be one too many
            self.cache.decr(current_key)
            return self.throttle_failure()
        return True

    def _count(self, current_key: str, previous_key: str) -> tuple[int, int]:
        """Count this request in the current window; the current window's count with it, and the
        previous window's."""
        timeout = 2 * self.duration
        cache = self.cache
        if isinstance(cache, ConnectionProxy):  # DRF's default: django.core.cache.cache
            cache = cache._connections[cache._alias]
        if isinstance(cache, RedisCache):
            current, previous = cache.make_and_validate_key(current_key), cache.make_and_validate_key(previous_key)
            client = cache._cache.get_client(current, write=True)  # type: ignore[attr-defined]
            pipeline = client.pipeline(transaction=False)
            pipeline.incr(current).expire(current, timeout).get(previous)
            counted, _, before = pipeline.execute()
            return int(counted), int(before or 0)
        try:
            counted = cache.incr(current_key)
        except ValueError:  # the window's first request
            counted = 1 if cache.add(current_key, 1, timeout=timeout) else cache.incr(current_key)
        return counted, cache.get(previous_key, 0)

    def _estimate(self) -> float:
        return self.previous * (1 - self.elapsed / self.duration) + self.current

    def wait(self) -> float:
        """Seconds until one more request fits, if none comes meanwhile."""
        room = self.num_requests - 1  # what the estimate may be for one more request to fit
        if self.current > room:
            # Only in the next window, once this one's count, then the previous one, has faded enough.
            return (self.duration - self.elapsed) + self.duration * (1 - room / self.current)
        fade_until = self.duration * (1 - (room - self.current) / self.previous)
        return max(fade_until - self.elapsed, 0.0)
