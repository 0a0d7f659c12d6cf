"""End-to-end training on tiny data in each layout, resume, exports, companion scripts."""
import collections
import csv
import json
import os
import re

import cv2
import mxnet as mx
import numpy as np
import pytest

from gluon_cnn import deploy
from gluon_cnn import models as gluon_cnn_models
from gluon_cnn.data import BatchIterator, load_dataset, to_network_input
from gluon_cnn.errors import UserError
from gluon_cnn.training import SmoothedLoss, checkpoint, train
from gluon_cnn.training.devices import amp_dtype
from conftest import needs_bfloat16, run_script
from helpers import (quick_config, train_crashing_after, write_cifar_binary, write_cifar_python,
                     write_image_folder)


def read_rows(path):
    with open(path, newline="") as handle:
        return list(csv.DictReader(handle))


def test_smoothed_loss_is_the_seeds_bias_corrected_average():
    smoothed = SmoothedLoss()
    assert smoothed.update(2.0) == pytest.approx(2.0)  # bias correction: the first value itself
    moving = 0.9 * 0.2 + 0.1 * 1.0
    assert smoothed.update(1.0) == pytest.approx(moving / (1 - 0.9 ** 2))


def test_run_learns_writes_metrics_checkpoints_export_and_curves(tmp_path):
    result = train(quick_config(tmp_path, num_epochs=4))
    run = tmp_path / "run"
    epochs = read_rows(run / "metrics.csv")
    assert list(epochs[0]) == ["epoch", "smoothed_loss", "train_acc", "running_train_acc",
                               "test_acc", "lr", "seconds", "samples_per_sec", "test_acc_tta"]
    assert all(row["test_acc_tta"] == "" for row in epochs)  # no --tta: left empty
    assert [row["epoch"] for row in epochs] == ["0", "1", "2", "3"]
    losses = [float(row["smoothed_loss"]) for row in epochs]
    assert losses[-1] < losses[0] * 0.8
    assert float(epochs[-1]["test_acc"]) > 0.3  # ten colour-coded classes, chance is 0.1
    assert len(read_rows(run / "iterations.csv")) == 4 * 8 // 2
    assert (run / "curves.png").stat().st_size > 10000
    assert [os.path.basename(p) for p in checkpoint.list_checkpoints(str(run / "checkpoints"))] \
        == ["epoch-0001", "epoch-0002", "epoch-0003"]  # numbered from 0, as the epoch line
    assert os.path.isfile(run / "lenet5-symbol.json") and os.path.isfile(run / "lenet5-0003.params")
    exported = deploy.load_exported(str(run / "lenet5"))
    splits = load_dataset("synthetic", synthetic_samples=128)
    data, _ = next(iter(BatchIterator(*splits.test, 32, 32)))
    in_memory = result["net"](data).argmax(axis=1).asnumpy()
    np.testing.assert_array_equal(exported(data).argmax(axis=1).asnumpy(), in_memory)


@pytest.mark.parametrize("layout", ["binary", "python", "imagefolder"])
def test_cifar_layouts_train(tmp_path, layout):
    data = str(tmp_path / "cifar")
    {"binary": write_cifar_binary, "python": write_cifar_python,
     "imagefolder": lambda d: write_image_folder(d, per_class=(10, 2))}[layout](data)
    result = train(quick_config(tmp_path, dataset="cifar10", data_dir=data, num_epochs=1))
    rows = read_rows(tmp_path / "run" / "metrics.csv")
    assert len(rows) == 1
    # the accuracy counts this layout's own test images: 20 in a release's test batch, 2 per
    # class of the 3 image folders
    test_images = 6 if layout == "imagefolder" else 20
    correct = result["test_acc"] * test_images
    assert correct == pytest.approx(round(correct), abs=1e-6)
    assert float(rows[0]["test_acc"]) == pytest.approx(result["test_acc"], abs=1e-6)


def test_own_image_folders_with_googlenet_paper_and_aux_heads(tmp_path):
    data = write_image_folder(str(tmp_path / "pets"), per_class=(8, 2), size=40)
    train(quick_config(tmp_path, net="googlenet_paper", dataset="imagefolder", data_dir=data,
                       image_size=79, batch_size=8, num_epochs=1))
    run = tmp_path / "run"
    saved = mx.nd.load(str(run / "checkpoints" / "epoch-0000" / "net.params"))
    assert any("aux" in key for key in saved)  # the heads were trained and checkpointed
    exported = mx.nd.load(str(run / "googlenet_paper-0000.params"))
    assert not any("aux" in key for key in exported)
    recipe = deploy.read_preprocessing(str(run / "googlenet_paper"))
    assert recipe["classes"] == ["cat", "dog", "ship"] and recipe["image_size"] == 79


def test_resume_after_a_crash_continues_at_the_next_epoch(tmp_path, monkeypatch):
    train_crashing_after(quick_config(tmp_path, num_epochs=4), 2, monkeypatch)
    train(quick_config(tmp_path, num_epochs=4, resume=True))
    rows = read_rows(tmp_path / "run" / "metrics.csv")
    assert [row["epoch"] for row in rows] == ["0", "1", "2", "3"]
    iterations = [int(row["iteration"]) for row in read_rows(tmp_path / "run" / "iterations.csv")]
    assert iterations == list(range(2, 33, 2))


def test_damaged_latest_checkpoint_falls_back_to_the_previous(tmp_path):
    train(quick_config(tmp_path, num_epochs=2))
    folder = tmp_path / "run" / "checkpoints"
    params = folder / "epoch-0001" / "net.params"
    params.write_bytes(params.read_bytes()[:100])
    path, state = checkpoint.latest_valid(str(folder))
    assert os.path.basename(path) == "epoch-0000" and state["epoch"] == 1


def test_train_script_prints_the_seed_format_and_refuses_bad_input(tmp_path):
    out = str(tmp_path / "cli")
    common = ["--dataset", "synthetic", "--synthetic-samples", "64", "--image-size", "32",
              "--batch-size", "16", "--num-epochs", "1", "--out", out]
    result = run_script("train.py", "--net", "lenet5", *common)
    assert result.returncode == 0, result.stderr
    line = [l for l in result.stdout.splitlines() if l.startswith("Epoch 0,")][0]
    assert line.startswith("Epoch 0, Moving Train Avg loss ")
    assert ", Train acc " in line and ", Test acc " in line and line.endswith(" s.")
    again = run_script("train.py", "--net", "lenet5", *common)
    assert again.returncode == 2 and "already holds a training run" in again.stderr
    other = run_script("train.py", "--net", "resnet18", *common[:-2], "--out", out, "--resume",
                       "--num-epochs", "2")
    assert other.returncode == 2
    assert "net was lenet5, now resnet18" in other.stderr


@pytest.mark.parametrize("args, message", [
    (["--net", "lenet"], "unknown model 'lenet'; did you mean lenet5"),
    (["--dataset", "mnist"], "--dataset must be one of cifar10, imagefolder, synthetic"),
    # the name is checked before any data is read or downloaded
    (["--net", "nonet", "--dataset", "cifar10", "--data-dir", "/nonexistent"],
     "unknown model 'nonet'"),
    (["--kvstore", "foo"], "--kvstore must be one of device, local"),
    (["--dataset", "cifar10", "--data-dir", "{tmp}/cifar"], "No CIFAR-10 found in {tmp}/cifar"),
    (["--lr", "-0.1"], "--lr must be positive"),
    (["--num-epochs", "0"], "--num-epochs must be positive"),
    (["--batch-size", "0"], "--batch-size must be positive"),
    (["--batch-size", "1000"], "larger than the 64 training samples"),
    (["--net", "vgg11", "--image-size", "16"], "vgg11 needs inputs of at least 32x32 pixels"),
    (["--gpus", "0"], "this mxnet is the CPU build"),
    (["--gpus", "x"], "--gpus takes comma-separated GPU ids"),
    (["--ctx", "tpu:0"], "--ctx takes devices such as cpu:0,cpu:1"),
    (["--lr-decay-epoch", "a,b"], "--lr-decay-epoch takes comma-separated epochs"),
    (["--out", "/dev/null/run"], "cannot write to --out /dev/null/run"),
    (["--resume"], "--resume found no intact checkpoint"),
    (["--lr", "1e9", "--num-epochs", "2"], "the loss became"),
    (["--lr-decay", "-1"], "--lr-decay is the factor the rate is multiplied by"),
    (["--lr-decay-epoch", "-1"], "--lr-decay-epoch takes ascending epochs after the warm-up"),
    (["--lr-decay-epoch", "5,2"], "--lr-decay-epoch takes ascending epochs"),
    (["--warmup-epochs", "2", "--num-epochs", "2"], "--warmup-epochs (2) must be fewer than"),
    (["--momentum", "5"], "--momentum must be at least 0 and below 1; got 5.0"),
    (["--label-smoothing", "1"], "--label-smoothing must be at least 0 and below 1"),
    (["--ema", "-0.5"], "--ema must be at least 0 and below 1"),
    (["--mixup", "-1"], "--mixup cannot be negative"),
    (["--normalize", "zca"], "--normalize must be one of none, pixel, channel; got 'zca'"),
    (["--recipe", "speedy"], "unknown recipe 'speedy'"),
    (["--clip-grad-norm", "1", "--kvstore", "dist_sync"], "--clip-grad-norm cannot be combined"),
])
def test_bad_input_is_one_clear_line(tmp_path, args, message):
    base = ["--net", "lenet5", "--dataset", "synthetic", "--synthetic-samples", "64",
            "--image-size", "32", "--batch-size", "16", "--num-epochs", "1",
            "--out", str(tmp_path / "run")]
    result = run_script("train.py", *(base + [arg.format(tmp=tmp_path) for arg in args]))
    assert result.returncode == 2, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    assert message.format(tmp=tmp_path) in result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("error: ")]
    assert len(errors) == 1


def test_plot_export_and_predict_scripts(tmp_path):
    data = write_image_folder(str(tmp_path / "data"), per_class=(12, 3))
    result = train(quick_config(tmp_path, dataset="imagefolder", data_dir=data, num_epochs=3))
    run = str(tmp_path / "run")
    plotted = run_script("plot.py", run, run, "--reference", "-o", str(tmp_path / "both.png"))
    assert plotted.returncode == 0, plotted.stderr
    assert os.path.getsize(tmp_path / "both.png") > 10000
    exported = run_script("export.py", run, "--prefix", str(tmp_path / "again"))
    assert exported.returncode == 0, exported.stderr
    assert os.path.isfile(tmp_path / "again-0002.params")
    image = os.path.join(data, "test", "dog", "0000.png")
    predicted = run_script("predict.py", "--model", str(tmp_path / "again"), image)
    assert predicted.returncode == 0, predicted.stderr
    lines = predicted.stdout.splitlines()
    assert lines[0] == image and len(lines) == 4  # three classes in this data
    # predict.py's preprocessing is training's: it agrees with the in-memory network.
    decoded = cv2.cvtColor(cv2.imread(image), cv2.COLOR_BGR2RGB)
    scores = result["net"](to_network_input(decoded[None], 32)).softmax().asnumpy()[0]
    expected = ["cat", "dog", "ship"][int(scores.argmax())]
    assert lines[1].split()[0] == expected
    assert float(lines[1].split()[1]) == pytest.approx(scores.max(), abs=1e-4)
    probabilities = [float(line.split()[-1]) for line in lines[1:]]
    assert probabilities == sorted(probabilities, reverse=True)
    assert sum(probabilities) == pytest.approx(1.0, abs=1e-3)

    gray = str(tmp_path / "gray.png")
    cv2.imwrite(gray, np.zeros((32, 32), np.uint8))
    text = str(tmp_path / "notes.png")
    with open(text, "w") as handle:
        handle.write("not an image")
    for args, message in [([str(tmp_path / "missing"), image], "no exported model"),
                          ([str(tmp_path / "again"), text], "is not an image"),
                          ([str(tmp_path / "again"), gray], "has 1 channel(s) but the model takes 3"),
                          ([str(tmp_path / "again"), str(tmp_path / "nope.png")], "no such image")]:
        result = run_script("predict.py", "--model", *args)
        assert result.returncode == 2 and message in result.stderr, result.stderr
        assert "Traceback" not in result.stderr
    converted = run_script("predict.py", "--model", str(tmp_path / "again"), "--convert", gray)
    assert converted.returncode == 0, converted.stderr


def test_two_cpu_contexts_match_one_with_the_same_total_batch(tmp_path):
    """The several-device path (split_and_load + KVStore aggregation) on two CPU contexts."""
    params = {}
    for name, ctx in (("one", "cpu:0"), ("two", "cpu:0,cpu:1")):
        train(quick_config(tmp_path, out=str(tmp_path / name), ctx=ctx, num_epochs=1,
                           optimizer="sgd", lr=0.05, momentum=0.9))
        params[name] = mx.nd.load(str(tmp_path / name / "checkpoints" / "epoch-0000" /
                                      "net.params"))
    for key, value in params["one"].items():
        np.testing.assert_allclose(params["two"][key].asnumpy(), value.asnumpy(),
                                   rtol=1e-4, atol=1e-6, err_msg=key)


@needs_bfloat16
def test_amp_trains_on_two_cpu_contexts_and_exports_float32(tmp_path):
    # AMP rewrites MXNet's operators for the whole process, so it runs in its own. On the
    # CPU it computes in bfloat16 with the same loss-scaling path float16 uses on GPUs.
    run = tmp_path / "run"
    result = run_script("train.py", "--net", "lenet5", "--dataset", "synthetic",
                        "--synthetic-samples", "512", "--image-size", "32", "--batch-size", "32",
                        "--num-epochs", "3", "--optimizer", "adam", "--lr", "0.003", "--amp",
                        "--ctx", "cpu:0,cpu:1", "--no-progress", "--out", str(run))
    assert result.returncode == 0, result.stderr
    assert "mixed precision (AMP): bfloat16 compute" in result.stdout
    rows = read_rows(run / "metrics.csv")
    assert float(rows[-1]["smoothed_loss"]) < float(rows[0]["smoothed_loss"])
    assert float(rows[-1]["test_acc"]) > 0.3  # 10 classes: well above chance
    with open(run / "lenet5-symbol.json") as handle:
        assert "amp_cast" not in handle.read()
    exported = deploy.load_exported(str(run / "lenet5"))
    assert exported(mx.nd.zeros((2, 3, 32, 32))).dtype == np.float32


def test_amp_precision_follows_the_devices_and_the_cpus_vector_units():
    def cpuinfo(flags):
        return "model name\t: Test CPU\nflags\t\t: %s\n" % flags
    avx512 = "fpu sse2 avx avx2 fma avx512f avx512dq avx512bw avx512vl"
    assert amp_dtype([mx.cpu(0), mx.cpu(1)], cpuinfo(avx512)) == "bfloat16"
    assert amp_dtype([mx.cpu()], cpuinfo(avx512 + " avx512_bf16 amx_bf16")) == "bfloat16"
    assert amp_dtype([mx.cpu()], "") == "bfloat16"  # no /proc/cpuinfo: oneDNN decides
    for flags in ("fpu sse2 avx avx2 fma", "fpu sse2 avx512f"):  # the second: no core subset
        with pytest.raises(UserError, match=r"only on CPUs with AVX-512, and this one "
                                            r"\(Test CPU\) lacks it: leave out --amp"):
            amp_dtype([mx.cpu()], cpuinfo(flags))
    with pytest.raises(UserError, match="mixes CPU and GPU"):
        amp_dtype([mx.cpu(), mx.gpu(0)], cpuinfo(avx512))


def test_amp_in_a_distributed_job_is_refused(tmp_path):
    refused = run_script("train.py", "--amp", "--kvstore", "dist_sync", "--dataset", "synthetic",
                         "--out", str(tmp_path / "dist"))
    assert refused.returncode == 2 and "--amp cannot be combined with --kvstore dist_sync" \
        in refused.stderr


def test_int8_export_is_close_to_its_fp32_source(tmp_path):
    train(quick_config(tmp_path, num_epochs=4, synthetic_samples=256))
    run = str(tmp_path / "run")
    result = run_script("export.py", run, "--int8", "--calib-samples", "128", "--evaluate")
    assert result.returncode == 0, result.stderr
    assert os.path.isfile(os.path.join(run, "lenet5-int8-symbol.json"))
    with open(os.path.join(run, "lenet5-int8-symbol.json")) as handle:
        assert '"_contrib_quantize_v2"' in handle.read()  # an INT8 graph, not a copy
    accuracy = dict(line.split(" test accuracy: ") for line in result.stdout.splitlines()
                    if " test accuracy: " in line)
    fp32, int8 = (float(accuracy[kind].split()[0]) for kind in ("fp32", "int8"))
    assert int8 >= fp32 - 0.05, (fp32, int8)
    # predict.py runs the INT8 export on image files and ranks the classes as FP32 does
    from gluon_cnn.data import make_synthetic
    images, _ = make_synthetic(3, classes=10, size=32, seed=0)
    paths = []
    for index, image in enumerate(images):
        paths.append(str(tmp_path / ("image%d.png" % index)))
        cv2.imwrite(paths[-1], image[:, :, ::-1])
    top = {}
    for kind in ("lenet5", "lenet5-int8"):
        predicted = run_script("predict.py", "--model", os.path.join(run, kind), *paths)
        assert predicted.returncode == 0, predicted.stderr
        lines = predicted.stdout.splitlines()
        top[kind] = [lines[lines.index(path) + 1].split()[0] for path in paths]
    assert top["lenet5-int8"] == top["lenet5"]


def test_int8_calibration_of_a_batch_norm_network_is_clean_and_complete(tmp_path, capfd, caplog):
    # MXNet's own min/max collector printed a traceback per batch for outputs it cannot read.
    net = gluon_cnn_models.get_model("resnet18", classes=10)
    net.initialize(mx.init.MSRAPrelu())
    prefix = str(tmp_path / "resnet18")
    deploy.export(net, prefix, (1, 3, 32, 32))
    capfd.readouterr()
    symbol_file, _ = deploy.quantize_export(prefix, mx.nd.random.uniform(shape=(128, 3, 32, 32)))
    assert "Traceback" not in capfd.readouterr().err
    # Which outputs MXNet cannot read depends on the layout oneDNN picks for the CPU: with
    # AVX-512 the last layer's from the second batch on; with AVX2 only (AMD Zen 3) none.
    unreadable = re.findall(r"could not read (\S+) on (\d+) of 2 batches", caplog.text)
    assert unreadable in ([], [("sg_mkldnn_fully_connected_0_output", "1")]), caplog.text
    with open(symbol_file) as handle:
        nodes = json.load(handle)["nodes"]
    quantized = [node for node in nodes
                 if node["op"] in ("_sg_mkldnn_conv", "_contrib_quantize_v2")]
    assert len(quantized) > 20
    assert all("min_calib_range" in json.dumps(node.get("attrs", {})) for node in quantized)


def test_int8_calibration_names_the_outputs_mxnet_could_not_read(tmp_path, monkeypatch,
                                                                 caplog):
    # Stands in for the CPUs whose oneDNN layout hides the classifier's output from the
    # second calibration batch on (AVX-512): there MXNet's read raises, as here, and the
    # collector's own detection must count it and warn, so that every machine checks it.
    read_output = deploy.OutputRangeCollector.read
    calls = collections.Counter()

    def read_failing_after_first_batch(collector, name, handle):
        calls[name] += 1
        if "fully_connected" in name and calls[name] > 1:
            raise mx.base.MXNetError("the array's oneDNN layout cannot be read (stand-in)")
        return read_output(collector, name, handle)

    monkeypatch.setattr(deploy.OutputRangeCollector, "read", read_failing_after_first_batch)
    net = gluon_cnn_models.get_model("lenet5", classes=10, in_channels=3)
    net.initialize(mx.init.Xavier())
    prefix = str(tmp_path / "lenet5")
    deploy.export(net, prefix, (1, 3, 32, 32))
    symbol_file, _ = deploy.quantize_export(prefix, mx.nd.random.uniform(shape=(96, 3, 32, 32)))
    unreadable = re.findall(r"could not read (\S+) on (\d+) of 2 batches; its range comes "
                            r"from the others\.", caplog.text)
    assert unreadable and all(count == "1" for _, count in unreadable), caplog.text
    assert sorted(name for name, _ in unreadable) == sorted(
        name for name in calls if "fully_connected" in name)
    with open(symbol_file) as handle:
        assert '"_contrib_quantize_v2"' in handle.read()


def test_evaluate_counts_on_the_devices_and_agrees_with_mxnets_metric():
    from gluon_cnn.training import evaluate
    net = mx.gluon.nn.Dense(5)
    net.initialize(ctx=[mx.cpu(0), mx.cpu(1)])
    images = np.random.RandomState(1).randint(0, 256, (70, 8, 8, 3)).astype(np.uint8)
    labels = np.random.RandomState(2).randint(0, 5, 70)
    metric = mx.metric.Accuracy()
    for data, label in BatchIterator(images, labels, 16, 8):
        metric.update([label], [net(data.as_in_context(mx.cpu(0)))])
    for contexts in ([mx.cpu(0)], [mx.cpu(0), mx.cpu(1)]):
        assert evaluate(net, BatchIterator(images, labels, 32, 8), contexts) \
            == pytest.approx(metric.get()[1])


def test_reference_table_puts_each_epoch_beside_the_gluon_tutorials(tmp_path):
    from gluon_cnn.plot import reference_table
    (tmp_path / "metrics.csv").write_text(
        "epoch,smoothed_loss,train_acc,running_train_acc,test_acc,lr,seconds,samples_per_sec\n"
        "0,2.1,0.25,0.2,0.26,0.1,400.4,130\n10,0.5,0.9,0.88,0.77,0.1,401,130\n")
    lines = reference_table(str(tmp_path)).splitlines()
    assert lines[2] == "| 0 | 2.030 | 0.280 | 0.287 | 69.9 | 2.100 | 0.250 | 0.260 | 400 | -2.7 |"
    assert lines[-1] == "| 10 |  |  |  |  | 0.500 | 0.900 | 0.770 | 401 |  |"
    assert len(lines) == 2 + 11  # the tutorial's ten epochs and ours
