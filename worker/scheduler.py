"""Beat's scheduler: celery-redbeat's, made to ride out a Redis outage (docs/adr/0017).

redbeat's own ends beat on the first Redis error inside a tick (the lock's extend, the schedule's read), so a
Redis restart or a Sentinel failover stopped beat, and with it `make run` and `make faults`. Here a tick that
cannot reach Redis sends nothing, logs a warning and is tried again one loop interval later. A lock lost
meanwhile (Redis came back without the key, or it expired and another beat took it) is dropped: nothing is
sent until this beat holds it again, taken the way it is at start-up (redbeat's beat_init handler, blocking
until free), and the static schedule is written back in case Redis came back empty. Redis down while beat
starts (the scheduler writes its static schedule as it is built) does not end beat either: the schedule is
written by the first tick that reaches Redis."""

from types import SimpleNamespace

from celery.utils.log import get_logger
from redbeat.schedulers import RedBeatScheduler, acquire_distributed_beat_lock
from redis.exceptions import ConnectionError, LockError, TimeoutError

logger = get_logger("celery.beat")

# Sentinel's MasterNotFoundError and a restarting server's BusyLoadingError are ConnectionErrors.
REDIS_UNREACHABLE = (ConnectionError, TimeoutError)


class OutageTolerantScheduler(RedBeatScheduler):
    # False while the static schedule could not be written (Redis unreachable when it was tried).
    schedule_written = True

    def setup_schedule(self) -> None:
        """Writes the static schedule; an unreachable Redis leaves it to the next tick. Celery builds the
        scheduler (and calls this) in beat's start-up signal, which swallows the error, and again on the
        first tick, which would not: beat would end on a Redis restart that happened as it started."""
        try:
            super().setup_schedule()
        except REDIS_UNREACHABLE as error:
            logger.warning("beat: Redis unreachable (%s); the schedule is written on a later tick", error)
            self.schedule_written = False
        else:
            self.schedule_written = True

    def tick(self, min=min, **kwargs) -> float:
        wait = self.max_interval
        try:
            if self.lock_key and self.lock is None:
                self._take_lock()
            elif not self.schedule_written:
                self.setup_schedule()
            return super().tick(min=min, **kwargs)
        except REDIS_UNREACHABLE as error:
            logger.warning("beat: Redis unreachable (%s); nothing sent, retry in %s s", error, wait)
        except LockError as error:
            logger.warning("beat: Lost lock %s (%s); nothing sent until ours again", self.lock_key, error)
            self.lock = None
        return wait

    def _take_lock(self) -> None:
        """Blocks until the lock is free, like at start-up; also the path when start-up's attempt failed."""
        logger.info("beat: Acquiring lock again...")
        acquire_distributed_beat_lock(sender=SimpleNamespace(scheduler=self))
        self.setup_schedule()  # idempotent: keeps each entry's last run, re-adds what an empty Redis lost

    def close(self) -> None:
        try:
            super().close()
        except (*REDIS_UNREACHABLE, LockError) as error:
            logger.warning("beat: Could not release lock %s (%s); it expires by itself", self.lock_key, error)
            self.lock = None
