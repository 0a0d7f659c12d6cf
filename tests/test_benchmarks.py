"""The benchmark scripts' own logic: parsing, tables, and short runs on tiny settings.
Their figures need an idle machine (and PyTorch for some), so they are run by hand; nothing
here times anything."""
import json
import os
import re
import sys

import pytest

BENCHMARKS = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                          "benchmarks")
sys.path.insert(0, BENCHMARKS)
from profile_step import split_other, summarize_onednn_log  # noqa: E402

pytestmark = pytest.mark.slow  # see pytest.ini

LOG = """dnnl_verbose,info,oneDNN v2.4.4
dnnl_verbose,exec,cpu,convolution,jit:avx512_common,forward_training,src_f32::blocked:aBcd16b:f0 wei_f32::blocked:ABcd16b16a:f0,,alg:convolution_direct,mb64_ic3oc64,100.0
TIMED STEPS
dnnl_verbose,exec,cpu,convolution,jit:avx512_common,forward_training,src_f32::blocked:aBcd16b:f0 wei_f32::blocked:ABcd16b16a:f0,,alg:convolution_direct,mb64_ic3oc64,4.0
dnnl_verbose,exec,cpu,reorder,jit:uni,undef,src_f32::blocked:abcd:f0 dst_f32::blocked:ABcd16b16a:f0,,,64x3x7x7,0.5
dnnl_verbose,exec,cpu,reorder,jit:blk,undef,src_f32::blocked:aBcd16b:f0 dst_f32::blocked:abcd:f0,,,64x128x2x2,1.5
dnnl_verbose,exec,cpu,reorder,jit:blk,undef,src_f32:0:blocked:aBcd16b:f0 dst_f32::blocked:abcd:f0,,,64x128x2x2,2.5
dnnl_verbose,exec,cpu,convolution,jit:avx512_common,forward_training,src_f32::blocked:aBcd16b:f0 wei_f32::blocked:ABcd16b16a:f0,,alg:convolution_direct,mb64_ic3oc64,6.0
"""


def test_onednn_log_counts_only_the_timed_steps_and_splits_reorders():
    figures = summarize_onednn_log(LOG, steps=2)
    assert figures["convolution forward_training (jit)"] == {"ms": 5.0, "calls": 1}
    assert figures["layout reorders of weights and weight gradients"]["ms"] == 0.25
    assert figures["layout reorders of activations and gradients"]["ms"] == pytest.approx(2.0)
    assert len(figures) == 3


def test_everything_else_is_the_sum_of_the_unmapped_operators_kept_by_name():
    categories, other = split_other({"convolution forward": 5.0, "everything else: slice": 1.5,
                                     "everything else: Pad": 0.25})
    assert categories == {"convolution forward": 5.0, "everything else": 1.75}
    assert other == {"slice": 1.5, "Pad": 0.25}


def test_seed_study_runs_reads_and_tabulates_each_variant(tmp_path):
    import seed_study
    from helpers import write_image_folder
    data = write_image_folder(str(tmp_path / "data"), per_class=(24, 4), size=32)
    out = tmp_path / "study"
    argv = ["--data-dir", data, "--seeds", "0", "1", "--variant", "baseline", "--variant",
            "jpeg=75", "--out", str(out), "--work-dir", str(tmp_path / "data-copies"),
            "--table", str(tmp_path / "table.md"),
            "--max-train-samples", "64"]
    seed_study.main(argv)
    text = (tmp_path / "table.md").read_text()
    assert text.count("| baseline | ") == 3 and text.count("| jpeg=75 | ") == 3  # 2 rows + summary
    assert os.path.isdir(tmp_path / "data-copies" / "data-jpeg75" / "train" / "cat")
    # a second call reads the finished runs instead of training them again
    before = os.path.getmtime(out / "baseline" / "seed0" / "metrics.csv")
    seed_study.main(argv)
    assert os.path.getmtime(out / "baseline" / "seed0" / "metrics.csv") == before
    # a run stopped before its first checkpoint starts over
    import shutil
    unfinished = out / "baseline" / "seed1"
    os.remove(unfinished / "metrics.csv")
    shutil.rmtree(unfinished / "checkpoints")
    seed_study.main(argv)
    assert (unfinished / "metrics.csv").exists()
    with pytest.raises(seed_study.UserError, match="--variant takes baseline"):
        seed_study.parse_variant("momentum=0.9")


def test_recipe_study_trains_each_seed_once_and_tabulates_variants(tmp_path):
    import recipe_study
    from helpers import write_image_folder
    data = write_image_folder(str(tmp_path / "data"), per_class=(12, 4), size=32)
    out = tmp_path / "study"
    argv = ["--recipe", "airbench94", "--data-dir", data, "--seeds", "0", "1",
            "--flags", "--num-epochs 3 --batch-size 8 --no-progress",
            "--variant", "baseline", "--variant", "no-tta: --tta none",
            "--out", str(out), "--table", str(tmp_path / "table.md")]
    recipe_study.main(argv)
    text = (tmp_path / "table.md").read_text()
    rows = [line.split(" | ") for line in text.splitlines() if line.startswith("| no-tta | ")]
    assert len(rows) == 4  # two runs, the summary and the difference from the baseline
    assert re.fullmatch(r"[+-]\d+\.\d\d \+- \d+\.\d\d \(2\)", rows[3][1])
    assert rows[0][3] == "-" and re.fullmatch(r"0\.\d{4}", rows[0][2])  # no TTA figure
    baseline = [line for line in text.splitlines() if line.startswith("| baseline | 0 |")][0]
    assert re.search(r"\| 0\.\d{4} \| 0\.\d{4} \| [\d.]+ min \| \d+ s \|", baseline)
    config = json.loads((out / "no-tta" / "seed-1" / "config.json").read_text())
    assert (config["seed"], config["tta"], config["num_epochs"]) == (1, "none", 3)
    # a second call reads the finished runs instead of training them again
    before = os.path.getmtime(out / "seed-0" / "metrics.csv")
    recipe_study.main(argv)
    assert os.path.getmtime(out / "seed-0" / "metrics.csv") == before
    # tabulating only: a seed and a variant never trained are named, not trained, and a
    # run that was started apart from those never started
    os.makedirs(out / "no-tta" / "seed-2" / "checkpoints")
    recipe_study.main(argv[:5] + ["0", "1", "2"] + argv[7:]
                      + ["--variant", "later: --lookahead 0", "--tabulate-only"])
    text = (tmp_path / "table.md").read_text()
    assert not (out / "seed-2").exists() and not (out / "later").exists()
    assert "| baseline | 2 | 0." in text and "| later |" not in text
    assert "Started, not finished yet, so not in the table: no-tta seed 2.\n" in text
    assert "Not started: baseline seed 2; later seeds 0, 1, 2.\n" in text
    for bad in ("no tta: --tta none", "no-tta --tta none", "baseline: --tta none"):
        with pytest.raises(recipe_study.UserError, match="--variant takes"):
            recipe_study.parse_variant(bad)
    for bad in (["jpeg=0"], ["jpeg=75", "jpeg-shift=8"], ["jpeg-shift=4"], ["jpeg=high"]):
        with pytest.raises(recipe_study.UserError, match="jpeg"):
            recipe_study.split_jpeg(bad)
    assert recipe_study.split_jpeg(["--tta", "none", "jpeg=75", "jpeg-shift=4"]) == (
        ["--tta", "none"], 75, 4)


def test_recipe_study_pairs_each_variant_with_the_baseline_seed_by_seed():
    import recipe_study

    def run(seed, plain, tta):
        return {"seed": seed, "test_acc": plain, "test_acc_tta": tta, "seconds": 60.0,
                "timed": True, "load_seconds": 1.0, "cpu": "test"}
    results = {"baseline": [run(0, .50, .52), run(1, .60, .63), run(2, .40, None)],
               "smoothing": [run(0, .55, .56), run(1, .62, .66)],
               "unpaired": [run(3, .90, .91)]}
    # seeds 0 and 1 only: the baseline's seed 2 (0.40) must not lower its side
    mean, spread, count = recipe_study.paired_differences(results)["smoothing"]
    assert (round(mean, 4), round(spread, 4), count) == (0.035, 0.0212, 2)
    assert "unpaired" not in recipe_study.paired_differences(results)
    assert round(recipe_study.paired_differences(results, "test_acc_tta")["smoothing"][1],
                 4) == 0.0071
    assert [round(value, 4) for value in recipe_study.tta_gain(results["baseline"])[:2]] == [
        0.025, 0.0071]
    text = recipe_study.table("airbench94", results, "python benchmarks/recipe_study.py")
    assert "| smoothing | +3.50 +- 2.12 (2) | +3.50 +- 0.71 (2) |" in text
    assert "| baseline, with TTA against without | +2.50 +- 0.71 (2) | - |" in text
    assert "| unpaired | +" not in text
    # no baseline, nothing to pair
    assert "seed by seed" not in recipe_study.table("airbench94",
                                                    {"smoothing": results["smoothing"]}, "x")


def test_a_jpeg_generation_on_a_shifted_grid_loses_what_an_aligned_one_does_not(tmp_path):
    import cv2
    import numpy as np
    from seed_study import reencoded_copy
    rng = np.random.RandomState(0)
    smooth = cv2.GaussianBlur(rng.randint(0, 256, (32, 32, 3)).astype(np.uint8), (5, 5), 1.5)
    os.makedirs(tmp_path / "data" / "train" / "cat")
    cv2.imwrite(str(tmp_path / "data" / "train" / "cat" / "0.jpg"), smooth,
                [cv2.IMWRITE_JPEG_QUALITY, 75])
    first = cv2.imread(str(tmp_path / "data" / "train" / "cat" / "0.jpg")).astype(float)

    def rmse(folder, name):
        image = cv2.imread(os.path.join(folder, "train", "cat", name))
        assert image.shape == (32, 32, 3)
        return np.sqrt(((image.astype(float) - first) ** 2).mean())

    aligned = reencoded_copy(str(tmp_path / "data"), 75, str(tmp_path / "aligned"))
    shifted = reencoded_copy(str(tmp_path / "data"), 75, str(tmp_path / "shifted"), shift=4)
    assert rmse(aligned, "0.jpg") < 1.5 < 3 * rmse(aligned, "0.jpg") < rmse(shifted, "0.png")


def test_plateau_exit_is_the_first_iteration_below_2_20(tmp_path):
    import seed_study
    (tmp_path / "metrics.csv").write_text("epoch,smoothed_loss,test_acc\n0,2.1,0.25\n")
    (tmp_path / "iterations.csv").write_text(
        "iteration,epoch,smoothed_loss,lr\n1,0,2.31,0.1\n2,0,2.19,0.1\n3,0,2.25,0.1\n4,0,2.1,0.1\n")

    class Args:
        pass
    row = seed_study.run_one(Args(), {}, 7, str(tmp_path))
    assert row == {"seed": 7, "plateau_exit": 2, "loss": 2.1, "test_acc": 0.25}


def test_end_to_end_steps_one_fixed_batch_then_the_runs_own_batches(capsys, monkeypatch):
    import end_to_end
    stepped = []
    real_step = end_to_end.TrainingRun.step

    def recording_step(run, epoch, batch, data, label, accuracy):
        stepped.append(float(data.sum().asscalar()))
        return real_step(run, epoch, batch, data, label, accuracy)
    monkeypatch.setattr(end_to_end.TrainingRun, "step", recording_step)
    end_to_end.main(["--net", "lenet5", "--rounds", "2", "--steps", "3", "--warmup", "1"])
    # per round: 1 + 3 steps of the fixed batch, then 1 + 3 of the run's own batches
    assert len(stepped) == 2 * (4 + 4)
    for first in (0, 8):
        bare, own = stepped[first:first + 4], stepped[first + 4:first + 8]
        assert len(set(bare)) == 1  # one batch, prepared once
        assert len(set(own)) == 4  # the run's batches, one after another
    out = capsys.readouterr().out
    assert re.search(r"end to end / bare: \d+\.\d{3}x", out)


def test_five_and_five_pretrains_then_tabulates_three_arms(tmp_path):
    import json
    import five_and_five
    from gluon_cnn.data import CIFAR10_CLASSES
    from helpers import write_image_folder
    data = write_image_folder(str(tmp_path / "data"), classes=CIFAR10_CLASSES,
                              per_class=(6, 2), size=32)
    out = tmp_path / "study"
    argv = ["--data-dir", data, "--out", str(out), "--table", str(tmp_path / "table.md"),
            "--net", "lenet5", "--pretrain-epochs", "1", "--pretrain-batch-size", "8",
            "--epochs", "1",
            "--per-class", "4", "--batch-size", "4"]
    five_and_five.main(argv)
    rows = [line for line in (tmp_path / "table.md").read_text().splitlines()
            if line.startswith("| `")]
    assert [row.split("|")[2].strip() for row in rows] == ["pre-trained", "pre-trained",
                                                            "random"]
    pretrain = json.load(open(out / "pretrain-first-five" / "config.json"))
    assert pretrain["class_names"] == list(CIFAR10_CLASSES[:5])
    finetune = json.load(open(out / "finetune" / "config.json"))
    assert finetune["class_names"] == list(CIFAR10_CLASSES[5:])
    assert finetune["pretrained_weights"]["net"] == "lenet5"
    assert json.load(open(out / "linear-probe" / "config.json"))["freeze_features"]
    assert json.load(open(out / "scratch" / "config.json"))["pretrained_weights"] is None
    before = os.path.getmtime(out / "scratch" / "metrics.csv")
    five_and_five.main(argv)  # finished runs are read, not trained again
    assert os.path.getmtime(out / "scratch" / "metrics.csv") == before


# A stand-in for the paper's legacy/airbench94.py with the interface airbench_upstream.py
# relies on: a loader that maps its data to ``gpu=0`` and makes it half precision, CUDA
# timer events, and a main() that reports each epoch through print_training_details. Its
# "training" is a nearest-class-mean classifier, so the accuracy says whether train.pt and
# test.pt were written with consistent labels.
STAND_IN_REFERENCE = '''
import os
import torch
hyp = {"opt": {"train_epochs": 2}}
logging_columns_list = ["run", "epoch", "val_acc"]

def print_columns(columns, is_head=False, is_final_entry=False):
    print("|".join(str(column) for column in columns))

def print_training_details(variables, is_final_entry):
    print_columns([variables["run"], variables["epoch"], variables["val_acc"]])

class CifarLoader:
    def __init__(self, path, train=True, batch_size=500, aug=None, drop_last=None,
                 shuffle=None, gpu=0):
        data = torch.load(os.path.join(path, "train.pt" if train else "test.pt"),
                          map_location=torch.device(gpu))
        self.images = (data["images"].half() / 255).permute(0, 3, 1, 2)
        self.labels = data["labels"]

def main(run):
    assert torch.empty(1).half().dtype == torch.float32
    train, test = CifarLoader("cifar10"), CifarLoader("cifar10", train=False)
    print("train images", len(train.labels))
    starter, ender = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
    total_time_seconds = 0.0
    for epoch in range(int(hyp["opt"]["train_epochs"])):
        starter.record()
        means = torch.stack([train.images[train.labels == k].mean(0) for k in range(3)])
        distances = ((test.images[:, None] - means[None]) ** 2).flatten(2).sum(2)
        val_acc = (distances.argmin(1) == test.labels).float().mean().item()
        ender.record()
        torch.cuda.synchronize()
        total_time_seconds += 1e-3 * starter.elapsed_time(ender)
        print_training_details(locals(), is_final_entry=False)
    tta_val_acc = val_acc
    epoch = "eval"
    print_training_details(locals(), is_final_entry=True)
    return tta_val_acc
'''


def test_airbench_upstream_runs_the_reference_main_on_the_cpu_from_image_folders(tmp_path):
    import subprocess
    from helpers import write_image_folder
    repo = tmp_path / "airbench"
    (repo / "legacy").mkdir(parents=True)
    (repo / "legacy" / "airbench94.py").write_text(STAND_IN_REFERENCE)
    data = write_image_folder(str(tmp_path / "data"), per_class=(8, 4), size=32)
    out = tmp_path / "upstream"
    command = [sys.executable, os.path.join(BENCHMARKS, "airbench_upstream.py"),
               "--airbench-repo", str(repo), "--data-dir", data, "--seeds", "3",
               "--out", str(out), "--work-dir", str(tmp_path / "work"), "--epochs", "3"]
    result = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert "\n3|0|1.0\n" in "\n" + result.stdout  # its own table, as it prints it
    record = json.loads((out / "seed-3.json").read_text())
    assert [entry["epoch"] for entry in record["per_epoch"]] == [0, 1, 2, "eval"]
    assert record["test_accuracy"] == record["tta_accuracy"] == 1.0
    assert record["epochs_trained"] == 3 and record["timed_seconds"] > 0
    again = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert again.returncode == 0 and "3|0|" not in again.stdout  # read, not rerun
    assert "seed 3: test 1.0000, TTA 1.0000" in again.stdout
    # another data folder in the same work folder: its own data, not the cached copy
    other = write_image_folder(str(tmp_path / "other"), per_class=(5, 4), size=32)
    changed = subprocess.run(command[:4] + ["--data-dir", other, "--seeds", "4"] + command[8:],
                             capture_output=True, text=True, timeout=300)
    assert changed.returncode == 0 and "train images 15\n" in changed.stdout
    assert "train images 24\n" in result.stdout
    missing = subprocess.run(command[:4] + ["--data-dir", str(tmp_path / "none")]
                             + command[6:], capture_output=True, text=True, timeout=300)
    assert missing.returncode == 2 and "is not a folder" in missing.stderr


def test_step_gaps_counts_only_gaps_inside_an_epoch_after_the_warmup():
    from step_gaps import gaps_summary
    # (epoch, batch, entered, returned): steps of 1 s with 0.1 s between them, a slow first
    # step, and a 30 s evaluation between epoch 0 and epoch 1
    calls = [(0, 0, 0.0, 5.0), (0, 1, 5.1, 6.1), (0, 2, 6.2, 7.2), (0, 3, 7.3, 8.3),
             (0, 4, 8.4, 9.4), (1, 0, 39.4, 40.4), (1, 1, 40.5, 41.5)]
    figures = gaps_summary(calls, warmup=1)
    assert figures["steps"] == 6 and figures["gaps"] == 4
    assert figures["step_ms_median"] == pytest.approx(1000)
    assert figures["gap_ms_median"] == pytest.approx(100) == figures["gap_ms_max"]
    assert figures["gap_share"] == pytest.approx(0.4 / 4.4)
    with pytest.raises(SystemExit, match="fewer than"):
        gaps_summary(calls[:3], warmup=2)
