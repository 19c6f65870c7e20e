"""When an image (or a page) that failed may be fetched again: a back-off that doubles."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from archiver.items import ImageRef


@dataclass(frozen=True)
class RetryPolicy:
    """The back-off after failed attempts: ``delay`` seconds after the first failure, twice
    that after the second, and so on, never more than ``max_delay`` seconds."""

    delay: float
    max_delay: float

    def retry_after(self, failures: int, last_attempt: datetime) -> datetime:
        """When an image (or an article's page) whose last attempt was the *failures*-th
        failure in a row may be fetched again. Worked out from this policy (the settings of
        the crawl that asks), so a changed delay applies to what failed before it."""
        exponent = min(max(failures, 1) - 1, 40)  # 2**40 delays are past any maximum
        delay = min(self.delay * 2**exponent, self.max_delay)
        return last_attempt + timedelta(seconds=max(delay, 0))

    def is_due(self, failed: ImageRef, now: datetime) -> bool:
        """Whether the image the archive recorded as failed (``failures``, ``last_attempt``)
        may be fetched again at ``now``; one with no recorded attempt is due."""
        since = failed.last_attempt
        return since is None or self.retry_after(failed.failures, since) <= now
