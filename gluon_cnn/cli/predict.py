"""Classify images with an exported model (no model code): prints the top-5 classes.

--model takes an MXNet export prefix (PREFIX-symbol.json + PREFIX-NNNN.params) or an ONNX
file (PREFIX.onnx, run with onnxruntime); both read PREFIX-preprocess.json."""
import numpy as np

from .. import deploy
from ..data.images import preprocess, read_image
from ..errors import UserError
from . import new_parser


def build_parser():
    parser = new_parser(__doc__)
    parser.add_argument("--model", required=True,
                        help="an MXNet export prefix (PREFIX-symbol.json + PREFIX-NNNN.params) "
                        "or an ONNX file PREFIX.onnx")
    parser.add_argument("images", nargs="+", metavar="IMAGE")
    parser.add_argument("--epoch", type=int, default=None,
                        help="params epoch of an MXNet export (default: newest)")
    parser.add_argument("--image-size", type=int, default=None,
                        help="input size (default: from PREFIX-preprocess.json)")
    parser.add_argument("--top", type=int, default=5, help="classes to print per image")
    parser.add_argument("--convert", action="store_true",
                        help="convert images to the model's channel count instead of refusing")
    return parser


def main(argv=None):
    args = build_parser().parse_args(argv)
    for flag, value in (("--image-size", args.image_size), ("--top", args.top)):
        if value is not None and value <= 0:
            raise UserError("%s must be positive; got %d." % (flag, value))
    if args.epoch is not None and args.epoch < 0:
        raise UserError("--epoch cannot be negative; got %d." % args.epoch)
    predict, prefix = deploy.load_predictor(args.model, args.epoch)
    recipe = deploy.read_preprocessing(prefix) or {}
    size = args.image_size or recipe.get("image_size")
    if not size:
        raise UserError("%s-preprocess.json is missing; pass --image-size." % prefix)
    channels = recipe.get("channels", 3)
    names = recipe.get("classes")
    for path in args.images:
        batch = preprocess(read_image(path, channels, args.convert), size,
                           deploy.training_resize(recipe), recipe.get("center_crop"))
        logits = predict(batch)[0]
        probabilities = np.exp(logits - logits.max())
        probabilities /= probabilities.sum()
        top = np.argsort(-probabilities)[:args.top]
        print(path)
        for index in top:
            label = names[index] if names and index < len(names) else "class %d" % index
            print("  %-16s %.4f" % (label, probabilities[index]))
