"""Import torchvision's or timm's ImageNet weights (a state dict saved as .safetensors, or as
.pth when torch is installed) into a zoo network, written as our export: PREFIX-symbol.json,
PREFIX-0000.params and PREFIX-preprocess.json (ImageNet mean and std inside the graph, the
input size and the centre crop). predict.py, visualize.py and train.py --pretrained take it."""
import os

from .. import torch_weights
from ..errors import UserError
from ..models import check_model_name
from ..paths import ExportFiles
from . import check_output_file, new_parser


def build_parser():
    parser = new_parser(__doc__)
    parser.add_argument("weights", metavar="WEIGHTS",
                        help="the state dict: FILE.safetensors, or FILE.pth (needs torch)")
    parser.add_argument("--net", required=True,
                        help="the zoo network laid out as the weights' (importable: %s)"
                        % ", ".join(torch_weights.IMPORTABLE))
    parser.add_argument("--out", default="imported/",
                        help="output prefix, or a folder to write <folder>/<net>-... into")
    parser.add_argument("--class-names", default=None, metavar="FILE",
                        help="a text file with one class name per line, in the weights' "
                             "order (ImageNet's: docs/finetuning.md), for predict.py")
    parser.add_argument("--image-size", type=int, default=None,
                        help="input size of the export (default: the network's, 224)")
    parser.add_argument("--center-crop", type=float,
                        default=torch_weights.IMAGENET_CENTER_CROP,
                        help="share of the shorter side predict.py keeps around the centre "
                             "(torchvision's 224 of 256; timm's models say theirs as crop_pct)")
    parser.add_argument("--overwrite", action="store_true",
                        help="replace an export that already exists at --out")
    return parser


def read_class_names(path):
    if not os.path.isfile(path):
        raise UserError("no such class names file: %s." % path)
    with open(path, encoding="utf-8") as handle:
        names = [line.strip() for line in handle if line.strip()]
    if not names:
        raise UserError("%s holds no class names (one per line)." % path)
    return names


def main(argv=None):
    args = build_parser().parse_args(argv)
    net = check_model_name(args.net)
    torch_weights.check_importable(net)
    if args.image_size is not None and args.image_size <= 0:
        raise UserError("--image-size must be positive; got %d." % args.image_size)
    if not 0 < args.center_crop <= 1:
        raise UserError("--center-crop is a share of the shorter side: above 0 and at most 1; "
                        "got %s." % args.center_crop)
    class_names = read_class_names(args.class_names) if args.class_names else None
    if not args.out:
        raise UserError("--out is empty; give a prefix or a folder for the export.")
    prefix = args.out
    if os.path.isdir(prefix) or prefix.endswith(("/", os.sep)):
        os.makedirs(prefix, exist_ok=True)
        prefix = os.path.join(prefix, net)  # a folder: the export goes inside it
    files = ExportFiles(prefix)
    check_output_file(files.symbol, "--out", args.overwrite)
    _, symbol_file, params_file = torch_weights.import_weights(
        net, args.weights, prefix, class_names, args.image_size, args.center_crop)
    print(symbol_file)
    print(params_file)
    print(files.preprocess)
