"""Export a training run's checkpoint to <prefix>-symbol.json + <prefix>-NNNN.params, and
optionally an INT8 copy calibrated on the run's training images and an ONNX copy."""
import json
import os

from .. import deploy
from ..data import BatchIterator, load_dataset, to_network_input
from ..errors import UserError
from . import check_output_file, new_parser


def build_parser():
    parser = new_parser(__doc__)
    parser.add_argument("run", metavar="RUN_DIR", help="a training run folder (--out of train.py)")
    parser.add_argument("--checkpoint", default=None,
                        help="checkpoint folder to export (default: the newest intact one)")
    parser.add_argument("--prefix", default=None, help="output prefix (default: RUN_DIR/<net>)")
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


def run_config(run):
    path = os.path.join(run, "config.json")
    if not os.path.isfile(path):
        raise UserError("%s has no config.json; is it a training run folder?" % run)
    try:
        with open(path) as handle:
            return json.load(handle)
    except ValueError:
        raise UserError("%s is not valid JSON; is %s a training run folder?" % (path, run)) \
            from None


def accuracy(predict, iterator):
    """Top-1 accuracy of a predictor (numpy logits) over an iterator of NDArray batches."""
    correct = total = 0
    for data, label in iterator:
        correct += int((predict(data.asnumpy()).argmax(axis=1) == label.asnumpy()).sum())
        total += label.shape[0]
    return correct / total


def main(argv=None):
    args = build_parser().parse_args(argv)
    if args.calib_samples <= 0:
        raise UserError("--calib-samples must be positive; got %d." % args.calib_samples)
    if args.max_test_samples < 0:
        raise UserError("--max-test-samples cannot be negative; got %d."
                        % args.max_test_samples)
    # The run's own export (the default prefix) is rewritten from its own checkpoint; any
    # other existing export is replaced only when asked.
    prefix = args.prefix or os.path.join(args.run, run_config(args.run)["net"])
    check_output_file(prefix + "-symbol.json", "--prefix", args.overwrite or not args.prefix)
    symbol_file, params_file = deploy.export_checkpoint(args.run, prefix, args.checkpoint)
    print(symbol_file)
    print(params_file)
    prefix = symbol_file[:-len("-symbol.json")]
    exports = {"fp32": prefix}
    if args.onnx:
        epoch = int(params_file[-len("NNNN.params"):-len(".params")])
        exports["onnx"] = deploy.export_onnx(prefix, epoch=epoch)
        print(exports["onnx"])
    if not (args.int8 or args.evaluate):
        return
    config = run_config(args.run)
    size = config["image_size"]
    resize = config.get("resize", "aligned")  # runs that predate the choice were aligned
    splits = load_dataset(config["dataset"], config.get("data_dir"), size,
                          synthetic_samples=(config["synthetic_samples"],
                                             max(1, config["synthetic_samples"] // 4)),
                          seed=config["seed"])
    if args.int8:
        calibration = to_network_input(splits.train[0][:args.calib_samples], size,
                                       resize=resize)
        int8_symbol, int8_params = deploy.quantize_export(prefix, calibration)
        print(int8_symbol)
        print(int8_params)
        exports["int8"] = prefix + "-int8"
    if args.evaluate:
        images, labels = splits.test
        if args.max_test_samples:
            images, labels = images[:args.max_test_samples], labels[:args.max_test_samples]
        for kind, model in exports.items():
            predict, _ = deploy.load_predictor(model)
            print("%s test accuracy: %.4f on %d images" % (
                kind, accuracy(predict, BatchIterator(images, labels, 64, size, resize=resize)),
                len(labels)))
