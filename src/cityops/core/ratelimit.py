"""A fixed-window counter in the cache, shared by every worker when the cache is (Redis in production)."""

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
