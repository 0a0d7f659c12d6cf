"""Print a network's summary table, its per-stage shapes or its receptive fields."""

from .. import debug
from ..errors import UserError
from ..models import describe_model, get_model, list_models
from . import net_help, new_parser


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
    parser = new_parser(__doc__)
    parser.add_argument("--net", default="googlenet",
                        help=net_help())
    parser.add_argument("--input-shape", default=None,
                        help="N,C,H,W (default: 1, the network's channels and its paper's size)")
    parser.add_argument("--classes", type=int, default=None, help="number of classes")
    parser.add_argument("--depth", type=int, default=None,
                        help="show blocks nested at most this deep (default: all)")
    parser.add_argument("--stages", action="store_true",
                        help="print only the top-level blocks' output shapes (debug mode)")
    parser.add_argument("--receptive-field", action="store_true",
                        help="print the receptive field of every convolution and pooling layer")
    parser.add_argument("--list", action="store_true",
                        help="print every model name with what it stands for")
    parser.add_argument("--zoo", action="store_true",
                        help="print a Markdown table of every model: input size, parameters, "
                             "MACs, smallest input (the README's table)")
    return parser


def zoo_table():
    """One Markdown row per model at its paper's input size and class count."""
    lines = ["| model | input | classes | trainable params | MACs / image | smallest input |",
             "| --- | --- | --- | ---: | ---: | ---: |"]
    for name in list_models():
        net = get_model(name)
        size = net.canonical_size
        report = debug.summary(net, (1, net.in_channels, size, size), printer=None)
        classes = report["rows"][0].output_shape[1]
        lines.append("| %s | %dx%dx%d | %d | {:,} | {:,.1f} M | %d px |".format(
            report["trainable_params"], report["macs"] / 1e6) % (
            name, size, size, net.in_channels, classes, net.smallest_input_size()))
    return "\n".join(lines)


def main(argv=None):
    args = build_parser().parse_args(argv)
    if args.zoo:
        print(zoo_table())
        return
    if args.list:
        for name in list_models():
            print("%-16s %s" % (name, describe_model(name)))
        print("\nFor 32-px images such as CIFAR-10 use cifar_resnet20 ... cifar_resnet110 (the "
              "ResNet paper's CIFAR networks; train.py --recipe resnet-paper-cifar); resnet18 "
              "... resnet152 are the ImageNet networks, whose stem shrinks 32 px to 8.")
        return
    for flag, value in (("--classes", args.classes), ("--depth", args.depth)):
        if value is not None and value <= 0:
            raise UserError("%s must be positive; got %d." % (flag, value))
    kwargs = {"classes": args.classes} if args.classes else {}
    net = get_model(args.net, **kwargs)
    shape = (parse_shape(args.input_shape) if args.input_shape else
             (1, net.in_channels, net.canonical_size, net.canonical_size))
    net.check_input_shape(shape)
    if args.stages:
        for index, (name, out_shape) in enumerate(debug.stage_shapes(net, shape)):
            print(debug.stage_line(index, name, out_shape))
    elif args.receptive_field:
        print(debug.format_receptive_field(debug.receptive_field(net, shape)))
    else:
        debug.summary(net, shape, max_depth=args.depth)
