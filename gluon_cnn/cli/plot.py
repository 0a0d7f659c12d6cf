"""Draw learning curves of one or several training runs on one figure (PNG)."""
import argparse
import os

from ..plot import plot_runs


def build_parser():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("runs", nargs="+", metavar="RUN_DIR", help="run folders (--out of train.py)")
    parser.add_argument("--output", "-o", default=None,
                        help="PNG to write (default: curves.png in the first run folder, or "
                             "compare.png there when several runs are given)")
    parser.add_argument("--seed", action="store_true",
                        help="add seed 002's published GoogLeNet curve for comparison")
    return parser


def main(argv=None):
    args = build_parser().parse_args(argv)
    output = args.output or os.path.join(
        args.runs[0], "curves.png" if len(args.runs) == 1 else "compare.png")
    print(plot_runs(args.runs, output, with_seed=args.seed))
