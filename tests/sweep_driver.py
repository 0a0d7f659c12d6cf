"""Runs one command-line tool's ``main`` on many argument lists in one interpreter, as
``scripts/<tool>.py`` would, and prints a JSON list of (exit status, stderr) per list.

Used by ``test_cli_sweep.py``: a fresh interpreter per tool keeps MXNet's process-wide state
(AMP, engine) from leaking between tools, and one per tool keeps the sweep quick. An
exception that escapes ``run_main`` is what a user would see as a traceback; it is reported
with status "traceback".
"""
import contextlib
import importlib
import io
import json
import os
import sys
import traceback

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from gluon_cnn.cli import run_main  # noqa: E402


def run_one(main, argv):
    stderr = io.StringIO()
    with contextlib.redirect_stderr(stderr), contextlib.redirect_stdout(io.StringIO()):
        try:
            status = run_main(main, argv)
        except SystemExit as exit_:
            status = exit_.code if isinstance(exit_.code, int) else 1
        except BaseException:  # noqa: B902  (the point is to see any escape)
            status = "traceback"
            stderr.write(traceback.format_exc())
    return [status, stderr.getvalue()]


def main():
    tool, cases_file = sys.argv[1], sys.argv[2]
    module = importlib.import_module("gluon_cnn.cli." + tool)
    with open(cases_file) as handle:
        cases = json.load(handle)
    print(json.dumps([run_one(module.main, argv) for argv in cases]))


if __name__ == "__main__":
    main()
