"""Export a training run's checkpoint to <prefix>-symbol.json + <prefix>-NNNN.params, and
optionally an INT8 copy calibrated on the run's training images and an ONNX copy."""
import os

from .. import deploy
from ..analysis import predict_split
from ..data import to_network_input
from ..errors import UserError
from ..paths import ExportFiles, RunFolder
from ..runs import read_run_config, run_dataset, run_resize
from ..training.finish import export_checkpoint
from . import check_output_file, new_parser


def build_parser():
    parser = new_parser(__doc__)
    parser.add_argument("run", metavar="RUN_DIR", help="a training run folder (--out of train.py)")
    parser.add_argument("--checkpoint", default=None,
                        help="checkpoint folder to export (default: the newest intact one)")
    parser.add_argument("--prefix", default=None,
                        help="output prefix, or a folder to write <folder>/<net>-... into "
                             "(default: RUN_DIR/<net>)")
    parser.add_argument("--data-dir", default=None,
                        help="where the run's data is now, for --int8 and --evaluate "
                             "(default: the folder the run was trained from)")
    parser.add_argument("--int8", action="store_true",
                        help="also write <prefix>-int8, quantized with oneDNN (CPU inference)")
    parser.add_argument("--calib-samples", type=int, default=640,
                        help="training images used to calibrate the INT8 scales")
    parser.add_argument("--onnx", action="store_true",
                        help="also write <prefix>.onnx (FP32) for onnxruntime and other runtimes")
    parser.add_argument("--evaluate", action="store_true",
                        help="print the test accuracy of every export written")
    parser.add_argument("--max-test-samples", type=int, default=0,
                        help="evaluate on the first N test images (0: all)")
    parser.add_argument("--overwrite", action="store_true",
                        help="replace an export that already exists at --prefix")
    return parser


def main(argv=None):
    args = build_parser().parse_args(argv)
    if args.calib_samples <= 0:
        raise UserError("--calib-samples must be positive; got %d." % args.calib_samples)
    if args.max_test_samples < 0:
        raise UserError("--max-test-samples cannot be negative; got %d."
                        % args.max_test_samples)
    # The run's own export (the default prefix) is rewritten from its own checkpoint; any
    # other existing export is replaced only when asked.
    net = read_run_config(args.run)["net"]
    prefix = args.prefix
    if prefix and (os.path.isdir(prefix) or prefix.endswith(os.sep)):
        prefix = os.path.join(prefix, net)  # a folder: the export goes inside it
    files = ExportFiles(prefix) if prefix else RunFolder(args.run).export(net)
    check_output_file(files.symbol, "--prefix", args.overwrite or not args.prefix)
    symbol_file, params_file = export_checkpoint(args.run, files.prefix, args.checkpoint)
    print(symbol_file)
    print(params_file)
    prefix = files.prefix
    exports = {"fp32": prefix}
    if args.onnx:
        exports["onnx"] = deploy.export_onnx(prefix, epoch=ExportFiles.epoch_of(params_file))
        print(exports["onnx"])
    if not (args.int8 or args.evaluate):
        return
    config = read_run_config(args.run)
    size, resize = config["image_size"], run_resize(config)
    splits = run_dataset(config, args.data_dir)
    if args.int8:
        calibration = to_network_input(splits.train[0][:args.calib_samples], size,
                                       resize=resize)
        int8_symbol, int8_params = deploy.quantize_export(prefix, calibration)
        print(int8_symbol)
        print(int8_params)
        exports["int8"] = files.int8.prefix
    if args.evaluate:
        images, labels = splits.test
        if args.max_test_samples:
            images, labels = images[:args.max_test_samples], labels[:args.max_test_samples]
        for kind, model in exports.items():
            predict, _ = deploy.load_predictor(model)
            predicted = predict_split(predict, images, labels, size, resize).argmax(axis=1)
            print("%s test accuracy: %.4f on %d images" % (
                kind, float((predicted == labels).mean()), len(labels)))
