"""Draw learning curves of one or several training runs on one figure (PNG)."""
import os

from ..errors import UserError
from ..paths import RunFolder
from ..plot import plot_runs, reference_table
from . import check_output_file, new_parser


IMAGE_FORMATS = ("png", "pdf", "svg", "jpg", "jpeg")


def build_parser():
    parser = new_parser(__doc__)
    parser.add_argument("runs", nargs="+", metavar="RUN_DIR", help="run folders (--out of train.py)")
    parser.add_argument("--output", "-o", default=None,
                        help="PNG to write (default: curves.png in the first run folder, or "
                             "compare.png there when several runs are given)")
    parser.add_argument("--reference", action="store_true",
                        help="add the curve the main job reproduces: the MXNet Gluon "
                             "GoogLeNet tutorial's published epochs (results/reference/)")
    parser.add_argument("--overwrite", action="store_true",
                        help="replace the output file if it exists")
    parser.add_argument("--table", action="store_true",
                        help="print a Markdown table of the run's epochs beside the Gluon "
                             "tutorial's instead of drawing")
    return parser


def main(argv=None):
    args = build_parser().parse_args(argv)
    if args.table:
        for run in args.runs:
            print(reference_table(run))
        return
    own_curves = RunFolder(args.runs[0]).curves
    output = args.output or (own_curves if len(args.runs) == 1
                             else os.path.join(args.runs[0], "compare.png"))
    extension = os.path.splitext(output)[1].lower().lstrip(".")
    if not extension:
        output += ".png"
    elif extension not in IMAGE_FORMATS:
        raise UserError("--output %s: plot.py writes %s files; give one of those extensions."
                        % (output, ", ".join(IMAGE_FORMATS)))
    # a run's own curves.png is drawn from its logs and is redrawn freely
    check_output_file(output, "--output", args.overwrite or output == own_curves)
    print(plot_runs(args.runs, output, with_reference=args.reference))
