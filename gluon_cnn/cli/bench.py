"""Benchmark a zoo network's training step and inference on this machine (medians)."""
import argparse
import json
import logging
import sys

from ..bench import benchmark, format_result
from ..errors import UserError
from ..models import list_models
from ..training.devices import contexts_from_flag


def build_parser():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("--net", default="googlenet",
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
    parser.add_argument("--gpus", default="", help="one GPU id such as 0 (empty: the CPU)")
    parser.add_argument("--ctx", default="", help="one MXNet device such as cpu:0 or gpu:1")
    parser.add_argument("--amp", action="store_true",
                        help="mixed precision: float16 on a GPU, bfloat16 on the CPU")
    parser.add_argument("--json", action="store_true", help="machine-readable output")
    return parser


def main(argv=None):
    args = build_parser().parse_args(argv)
    for handler in logging.getLogger().handlers:  # stdout carries the figures only
        handler.setStream(sys.stderr)
    contexts = contexts_from_flag(args.gpus, args.ctx)
    if len(contexts) != 1:
        raise UserError("bench.py measures one device; give one GPU id or one --ctx device.")
    result = benchmark(args.net, args.batch_size, args.image_size, args.mode, args.hybridize,
                       args.steps, args.repeats, classes=args.classes, ctx=contexts[0],
                       use_amp=args.amp)
    print(json.dumps(result, indent=1) if args.json else format_result(result))
