"""Stopping a run cleanly: Ctrl-C and SIGTERM end the current step, then a checkpoint."""
import logging
import signal

from ..errors import UserError

log = logging.getLogger(__name__)


class Interrupted(UserError):
    """Stopped by Ctrl-C or SIGTERM after writing a checkpoint."""
    exit_code = 130


class StopSignals:
    """While active, SIGINT and SIGTERM ask the loop to stop after the current step."""

    SIGNALS = (signal.SIGINT, signal.SIGTERM)

    def __init__(self):
        self.received = None
        self._previous = {}

    def __enter__(self):
        for number in self.SIGNALS:
            self._previous[number] = signal.signal(number, self._handle)
        return self

    def _handle(self, number, _frame):
        if self.received is not None:  # a second Ctrl-C: stop now
            raise KeyboardInterrupt
        self.received = signal.Signals(number).name
        log.warning("%s received: finishing this step and writing a checkpoint", self.received)

    def __exit__(self, *exc):
        for number, handler in self._previous.items():
            signal.signal(number, handler)
        return False
