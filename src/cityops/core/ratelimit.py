"""A fixed-window counter in the cache, shared by every worker when the cache is (Redis in production), and a
lockout after repeated failures built on it."""

import math
import time

from django.core.cache import cache


def window_hit(*, key: str, window_s: int) -> tuple[int, int]:
    """Count one hit of `key` in the current window. Returns (hits so far in the window, seconds left)."""
    now = time.time()
    window = int(now // window_s)
    cache_key = f"rate:{key}:{window}"
    cache.add(cache_key, 0, timeout=window_s + 60)
    try:
        used = cache.incr(cache_key)
    except ValueError:  # evicted between add and incr
        cache.set(cache_key, 1, timeout=window_s + 60)
        used = 1
    return used, window_s - int(now) % window_s


def locked_for(*, key: str) -> int:
    """Seconds left of a lockout of `key` (`failure_hit`), 0 when it is not locked out."""
    until = cache.get(f"lock:{key}")
    return max(0, math.ceil(until - time.time())) if until else 0


def failure_hit(*, key: str, limit: int, cooloff_s: int) -> int:
    """Count one failure of `key` (a wrong key, a wrong phone); the `limit`-th failure within a cool-off window
    locks `key` out for `cooloff_s` seconds (django-axes does the same for logins). Returns seconds locked, 0
    when not locked. Successes never reset the count: one proof an attacker holds must not buy more guesses."""
    failures, _left = window_hit(key=f"fail:{key}", window_s=cooloff_s)
    if failures < limit:
        return 0
    cache.set(f"lock:{key}", time.time() + cooloff_s, timeout=cooloff_s)
    return cooloff_s
