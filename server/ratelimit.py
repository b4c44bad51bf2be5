"""Token buckets: a rate with a burst, on an injected clock."""

from __future__ import annotations

from .clock import Clock


class TokenBucket:
    """Allows ``rate`` events a second on average and ``burst`` at once.

    :meth:`take` never waits: it says yes, or no and how long until yes, so a
    caller can answer ``rate.limited`` with ``retry_after`` at once.
    """

    __slots__ = ("_burst", "_clock", "_rate", "_stamp", "_tokens")

    def __init__(self, rate: float, burst: int, clock: Clock) -> None:
        if rate <= 0 or burst < 1:
            raise ValueError("rate must be > 0 and burst >= 1")
        self._rate = rate
        self._burst = float(burst)
        self._clock = clock
        self._tokens = float(burst)
        self._stamp = clock.monotonic()

    def wait(self, cost: float = 1.0) -> float:
        """Seconds until ``cost`` tokens are there (0.0: now), spending nothing."""
        now = self._clock.monotonic()
        tokens = min(self._burst, self._tokens + (now - self._stamp) * self._rate)
        return 0.0 if tokens >= cost else (cost - tokens) / self._rate

    def take(self, cost: float = 1.0) -> float:
        """Spend ``cost`` tokens.  Returns 0.0 on success, else seconds to wait."""
        now = self._clock.monotonic()
        self._tokens = min(self._burst, self._tokens + (now - self._stamp) * self._rate)
        self._stamp = now
        if self._tokens >= cost:
            self._tokens -= cost
            return 0.0
        return (cost - self._tokens) / self._rate
