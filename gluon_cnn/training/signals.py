"""Stopping a run cleanly: Ctrl-C and SIGTERM end the current step, then a checkpoint."""
import logging
import os
import signal
import socket
import sys
import threading

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


class StuckStepWatch:
    """For a worker of a distributed job: ends it when a stop signal left it in a step
    that cannot finish.

    The workers see a signal at slightly different moments, so one can begin the step
    after the one its peers stopped at; that step's push and pull then wait for them
    forever, inside MXNet's C++ code, where no Python signal handler runs. Python's own
    C handler still writes each signal to a wakeup socket; this thread reads it, and when
    the main thread then stays inside one step for ``patience`` seconds, it prints the
    worker's last line, ``last_line(signal name)``, and exits with status 130, as the
    signal would have. ``progress()`` returns (steps finished, step in progress or None)."""

    def __init__(self, progress, last_line, patience=10.0):
        self.progress, self.last_line, self.patience = progress, last_line, patience
        self._done = threading.Event()

    def __enter__(self):
        self._read, self._write = socket.socketpair()
        self._write.setblocking(False)
        self._previous_fd = signal.set_wakeup_fd(self._write.fileno(), warn_on_full_buffer=False)
        self._thread = threading.Thread(target=self._watch, name="stuck-step-watch",
                                        daemon=True)
        self._thread.start()
        return self

    def _watch(self):
        received = b"\0"
        while received[0] not in StopSignals.SIGNALS:
            received = self._read.recv(1)
            if not received:  # closed by __exit__
                return
        seen = self.progress()
        while not self._done.wait(self.patience):
            now = self.progress()
            if now == seen and now[1] is not None:
                print("error: %s" % self.last_line(signal.Signals(received[0]).name),
                      file=sys.stderr)
                sys.stdout.flush()
                sys.stderr.flush()
                os._exit(Interrupted.exit_code)
            seen = now

    def __exit__(self, *exc):
        signal.set_wakeup_fd(self._previous_fd)
        self._done.set()
        self._write.close()
        self._read.shutdown(socket.SHUT_RDWR)
        # Joined here, so that nothing the thread holds (the run, its KVStore) outlives the
        # run: a KVStore left for the interpreter's exit made ps-lite's shutdown abort.
        self._thread.join()
        self._read.close()
        self.progress = self.last_line = None
        return False
