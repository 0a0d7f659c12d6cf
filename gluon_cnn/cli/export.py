"""Export a training run's checkpoint to <prefix>-symbol.json + <prefix>-NNNN.params."""
import argparse

from .. import deploy


def build_parser():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("run", metavar="RUN_DIR", help="a training run folder (--out of train.py)")
    parser.add_argument("--checkpoint", default=None,
                        help="checkpoint folder to export (default: the newest intact one)")
    parser.add_argument("--prefix", default=None, help="output prefix (default: RUN_DIR/<net>)")
    return parser


def main(argv=None):
    args = build_parser().parse_args(argv)
    for path in deploy.export_checkpoint(args.run, args.prefix, args.checkpoint):
        print(path)
