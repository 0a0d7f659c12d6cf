"""Command-line tools; ``scripts/*.py`` are thin wrappers around ``main`` in these modules."""
import logging
import os
import sys
import traceback

from ..errors import UserError


def run_main(main, argv=None):
    """Run a tool's ``main``: a UserError becomes one line on stderr and exit status 2."""
    logging.basicConfig(level=logging.INFO, format="%(message)s", stream=sys.stdout)
    try:
        return main(argv) or 0
    except UserError as err:
        print("error: %s" % err, file=sys.stderr)
        return _leave(getattr(err, "exit_code", 2))
    except Exception:
        if os.environ.get("DMLC_ROLE") != "worker":
            raise
        traceback.print_exc()
        return _leave(1)


def _leave(status):
    """A worker of a distributed job that fails must exit at once: a normal exit waits in
    ps-lite's shutdown for the other workers, forever, and the launcher never learns of it."""
    if os.environ.get("DMLC_ROLE") == "worker":
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(status)
    return status
