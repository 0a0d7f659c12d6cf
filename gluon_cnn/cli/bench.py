"""Benchmark a zoo network's training step and inference on this machine (medians)."""
import argparse
import json

from ..bench import benchmark, format_result
from ..models import list_models


def build_parser():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("--net", default="googlenet_compact",
                        help="model: " + ", ".join(list_models()))
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--image-size", type=int, default=96)
    parser.add_argument("--mode", choices=("train", "infer", "both"), default="both")
    parser.add_argument("--hybridize", dest="hybridize", action="store_true", default=True,
                        help="hybridize with static allocation")
    parser.add_argument("--no-hybridize", dest="hybridize", action="store_false",
                        help="run imperatively")
    parser.add_argument("--steps", type=int, default=10, help="steps per timed run")
    parser.add_argument("--repeats", type=int, default=5, help="timed runs (median reported)")
    parser.add_argument("--classes", type=int, default=10)
    parser.add_argument("--json", action="store_true", help="machine-readable output")
    return parser


def main(argv=None):
    args = build_parser().parse_args(argv)
    result = benchmark(args.net, args.batch_size, args.image_size, args.mode, args.hybridize,
                       args.steps, args.repeats, classes=args.classes)
    print(json.dumps(result, indent=1) if args.json else format_result(result))
