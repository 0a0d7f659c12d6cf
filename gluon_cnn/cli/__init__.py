"""Command-line tools; ``scripts/*.py`` are thin wrappers around ``main`` in these modules."""
import logging
import sys

from ..errors import UserError


def run_main(main, argv=None):
    """Run a tool's ``main``: a UserError becomes one line on stderr and exit status 2."""
    logging.basicConfig(level=logging.INFO, format="%(message)s", stream=sys.stdout)
    try:
        return main(argv) or 0
    except UserError as err:
        print("error: %s" % err, file=sys.stderr)
        return getattr(err, "exit_code", 2)
