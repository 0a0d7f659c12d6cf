"""Where a trained run fails: evaluate its export on its test split (no model code) and
write a confusion matrix, per-class precision and recall, the most confused pairs and the
misclassified images it was surest of, into RUN_DIR/inspect/."""
from ..analysis import format_report, inspect_run
from ..errors import UserError
from . import new_parser


def build_parser():
    parser = new_parser(__doc__)
    parser.add_argument("run", metavar="RUN_DIR", help="a training run folder (--out of train.py)")
    parser.add_argument("--model", default=None,
                        help="the export to evaluate, a prefix or a .onnx file (default: the "
                             "run's own, RUN_DIR/<net>)")
    parser.add_argument("--out", default=None, help="folder for the pictures and tables "
                                                    "(default: RUN_DIR/inspect)")
    parser.add_argument("--data-dir", default=None,
                        help="where the run's data set is now (default: where it was trained)")
    parser.add_argument("--max-test-samples", type=int, default=0,
                        help="evaluate on the first N test images (0: all)")
    parser.add_argument("--mistakes", type=int, default=25,
                        help="misclassified images to draw, the surest first")
    parser.add_argument("--overwrite", action="store_true",
                        help="replace the pictures and tables of an earlier inspection")
    return parser


def main(argv=None):
    args = build_parser().parse_args(argv)
    if args.max_test_samples < 0:
        raise UserError("--max-test-samples cannot be negative; got %d." % args.max_test_samples)
    if args.mistakes <= 0:
        raise UserError("--mistakes must be positive; got %d." % args.mistakes)
    print(format_report(inspect_run(args.run, args.out, args.model, args.data_dir,
                                    args.max_test_samples, args.mistakes, args.overwrite)))
