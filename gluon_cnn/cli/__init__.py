"""Command-line tools; ``scripts/*.py`` are thin wrappers around ``main`` in these modules."""
import argparse
import logging
import os
import sys
import traceback

from ..errors import UserError


class HelpFormatter(argparse.ArgumentDefaultsHelpFormatter):
    """Shows "(default: X)" only where it informs: not for on/off switches (their help says
    what they do), not for a default of None (the help says what happens then), and not
    when the help already names its default."""

    def _get_help_string(self, action):
        if (action.default is None or action.nargs == 0 or "default" in (action.help or "")
                or action.default == argparse.SUPPRESS):
            return action.help
        return super()._get_help_string(action)


def new_parser(description):
    return argparse.ArgumentParser(description=description, formatter_class=HelpFormatter)


def net_help():
    """The --net help of every tool: which GoogLeNet is which, and every name."""
    from ..models import list_models
    return ("network: googlenet is the MXNet Gluon tutorial's 96-px GoogLeNet (the main job), "
            "googlenet_paper the paper's with LRN and auxiliary heads, googlenet_bn the "
            "paper's with batch norm; one of %s (scripts/summary.py --list describes each)"
            % ", ".join(list_models()))


def check_output_file(path, flag, overwrite=False):
    """Refuse, in one sentence, an output file whose folder is missing or which exists
    (unless ``overwrite``), before any work is done."""
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise UserError("%s %s: the folder %s does not exist; create it or choose another "
                        "path." % (flag, path, folder))
    if not os.access(folder, os.W_OK):
        raise UserError("%s %s: the folder %s is not writable; choose another path."
                        % (flag, path, folder))
    if os.path.exists(path) and not overwrite:
        raise UserError("%s %s already exists; pass --overwrite to replace it or choose "
                        "another path." % (flag, path))
    return path


def run_main(main, argv=None):
    """Run a tool's ``main``: a UserError becomes one line on stderr and exit status 2."""
    # the tools' own lines at INFO; other libraries' (mx2onnx's "Converting json ...") only
    # when they warn
    logging.basicConfig(level=logging.WARNING, format="%(message)s", stream=sys.stdout)
    logging.getLogger("gluon_cnn").setLevel(logging.INFO)
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
