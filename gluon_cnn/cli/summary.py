"""Print a network's summary table, its per-stage shapes or its receptive fields."""
import argparse

from .. import debug
from ..errors import UserError
from ..models import get_model, list_models


def parse_shape(text):
    try:
        shape = tuple(int(part) for part in text.split(","))
    except ValueError:
        shape = ()
    if len(shape) != 4 or min(shape) <= 0:
        raise UserError("--input-shape takes four positive integers N,C,H,W such as 1,3,96,96; "
                        "got '%s'." % text)
    return shape


def build_parser():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("--net", default="googlenet_compact",
                        help="model name, one of: " + ", ".join(list_models()))
    parser.add_argument("--input-shape", default=None,
                        help="N,C,H,W (default: 1, the network's channels and its paper's size)")
    parser.add_argument("--classes", type=int, default=None, help="number of classes")
    parser.add_argument("--depth", type=int, default=None,
                        help="show blocks nested at most this deep (default: all)")
    parser.add_argument("--stages", action="store_true",
                        help="print only the top-level blocks' output shapes (debug mode)")
    parser.add_argument("--receptive-field", action="store_true",
                        help="print the receptive field of every convolution and pooling layer")
    return parser


def main(argv=None):
    args = build_parser().parse_args(argv)
    kwargs = {"classes": args.classes} if args.classes else {}
    net = get_model(args.net, **kwargs)
    shape = (parse_shape(args.input_shape) if args.input_shape else
             (1, net.in_channels, net.canonical_size, net.canonical_size))
    net.check_input_shape(shape)
    if args.stages:
        for index, (name, out_shape) in enumerate(debug.stage_shapes(net, shape)):
            print("blk%d output: %s  (%s)" % (index + 1, out_shape, name))
    elif args.receptive_field:
        print(debug.format_receptive_field(debug.receptive_field(net, shape)))
    else:
        debug.summary(net, shape, max_depth=args.depth)
