"""Draw a network's first-convolution filters and, for one image, every top-level block's
output (the blocks the debug mode prints) as PNGs. Untrained networks work too: random
filters are instructive."""
import os

import mxnet as mx

from .. import deploy
from ..data.images import preprocess, read_image
from ..errors import UserError
from ..models import get_model
from ..paths import make_output_folder
from ..visualize import load_export_parameters, visualize
from . import net_help, new_parser


def build_parser():
    parser = new_parser(__doc__)
    parser.add_argument("--net", default="googlenet", help=net_help())
    parser.add_argument("--model", default=None,
                        help="an export prefix (PREFIX-symbol.json + PREFIX-NNNN.params) whose "
                             "parameters to show (default: the untrained network)")
    parser.add_argument("--image", required=True, help="the image to pass through")
    parser.add_argument("--out", default=None,
                        help="folder for the PNGs (default: visualize-<net>-<image name>)")
    parser.add_argument("--image-size", type=int, default=None,
                        help="input size (default: the export's, else the network's paper size)")
    parser.add_argument("--classes", type=int, default=None,
                        help="classes of the untrained network (default: the export's, else "
                             "the network's default)")
    parser.add_argument("--channels", type=int, default=64,
                        help="channels drawn per block, the first ones")
    parser.add_argument("--seed", type=int, default=0, help="initialization of an untrained net")
    parser.add_argument("--overwrite", action="store_true", help="replace earlier PNGs in --out")
    return parser


def main(argv=None):
    args = build_parser().parse_args(argv)
    for flag, value in (("--image-size", args.image_size), ("--classes", args.classes),
                        ("--channels", args.channels)):
        if value is not None and value <= 0:
            raise UserError("%s must be positive; got %d." % (flag, value))
    if args.seed < 0:
        raise UserError("--seed cannot be negative; got %d." % args.seed)
    recipe = (deploy.read_preprocessing(args.model) or {}) if args.model else {}
    names = recipe.get("classes")
    classes = args.classes or (len(names) if names else None)
    normalize = (deploy.normalization_of(deploy.read_export_parameters(args.model))
                 if args.model else "none")
    net = get_model(args.net, **({"classes": classes} if classes else {}),
                    in_channels=recipe.get("channels", 1 if args.net == "lenet5" else 3),
                    normalize=normalize, image_size=recipe.get("image_size"))
    size = args.image_size or recipe.get("image_size") or net.canonical_size
    out = args.out or "visualize-%s-%s" % (args.net, os.path.splitext(
        os.path.basename(args.image))[0])
    if os.path.isdir(out) and os.listdir(out) and not args.overwrite:
        raise UserError("%s already holds files; pass --overwrite to replace them or choose "
                        "another --out." % out)
    make_output_folder(out)
    batch = mx.nd.array(preprocess(read_image(args.image, net.in_channels, convert=True), size,
                                   deploy.training_resize(recipe),
                                   recipe.get("center_crop")))
    net.check_input_shape(batch.shape)
    mx.random.seed(args.seed)
    net.initialize(mx.init.Xavier())
    net(batch)  # finishes the deferred initialization
    if args.model:
        load_export_parameters(net, args.model)
    for name, panels in visualize(net, batch, out, args.channels, names):
        print("%s (%d panels)" % (os.path.join(out, name), panels))
