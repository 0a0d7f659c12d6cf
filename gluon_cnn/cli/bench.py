"""Benchmark a zoo network's training step and inference on this machine (medians)."""
import json
import logging
import sys

from ..bench import benchmark, format_result
from ..errors import UserError
from ..training.devices import contexts_from_flag
from . import net_help, new_parser


def build_parser():
    parser = new_parser(__doc__)
    parser.add_argument("--net", default="googlenet",
                        help=net_help())
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
    for flag in ("batch_size", "image_size", "steps", "repeats", "classes"):
        if getattr(args, flag) <= 0:
            raise UserError("--%s must be positive; got %d." % (flag.replace("_", "-"),
                                                                getattr(args, flag)))
    contexts = contexts_from_flag(args.gpus, args.ctx)
    if len(contexts) != 1:
        raise UserError("bench.py measures one device; give one GPU id or one --ctx device.")
    result = benchmark(args.net, args.batch_size, args.image_size, args.mode, args.hybridize,
                       args.steps, args.repeats, classes=args.classes, ctx=contexts[0],
                       use_amp=args.amp)
    print(json.dumps(result, indent=1) if args.json else format_result(result))
