"""Faults a run survives: kills, signals, crashes, damaged checkpoints, a full disk."""
import errno
import logging
import os
import signal
import subprocess
import sys
import time

import mxnet as mx
import numpy as np
import pytest

from gluon_cnn import UserError
from gluon_cnn.training import TrainConfig, checkpoint, optimizer_state, train
from conftest import ROOT, script_command
from helpers import train_crashing_after

pytestmark = pytest.mark.slow  # see pytest.ini

RUN_ARGS = ["--net", "lenet5", "--dataset", "synthetic", "--synthetic-samples", "512",
            "--image-size", "32", "--batch-size", "16", "--num-epochs", "3", "--momentum",
            "0.9", "--lr", "0.02", "--log-interval", "1", "--no-progress"]


def config(out, **overrides):
    settings = dict(net="lenet5", dataset="synthetic", synthetic_samples=512, image_size=32,
                    batch_size=16, num_epochs=3, momentum=0.9, lr=0.02, log_interval=1,
                    progress=False, out=str(out))
    settings.update(overrides)
    return TrainConfig(**settings)


def final_params(out, epochs=3):
    """Parameters after ``epochs`` complete epochs (the checkpoint of epoch ``epochs - 1``)."""
    return mx.nd.load(os.path.join(str(out), "checkpoints", "epoch-%04d" % (epochs - 1),
                                   "net.params"))


def assert_same_params(a, b):
    assert sorted(a) == sorted(b)
    for key in a:
        np.testing.assert_array_equal(a[key].asnumpy(), b[key].asnumpy(), err_msg=key)


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory):
    out = tmp_path_factory.mktemp("reference") / "run"
    train(config(out))
    return final_params(out)


def start_run(out):
    return subprocess.Popen(script_command("train.py", *RUN_ARGS, "--out", out),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def wait_for_rows(out, rows, process, timeout=120):
    """Wait until iterations.csv has ``rows`` data rows (the run is mid-epoch)."""
    path = os.path.join(str(out), "iterations.csv")
    deadline = time.time() + timeout
    while time.time() < deadline:
        assert process.poll() is None, process.communicate()
        if os.path.exists(path):
            with open(path) as handle:
                if sum(1 for _ in handle) - 1 >= rows:
                    return
        time.sleep(0.05)
    process.kill()
    raise AssertionError("the run did not reach %d iterations" % rows)


def test_crash_then_resume_gives_the_uninterrupted_parameters(tmp_path, monkeypatch,
                                                               uninterrupted):
    train_crashing_after(config(tmp_path / "run"), 1, monkeypatch)
    train(config(tmp_path / "run", resume=True))
    assert_same_params(final_params(tmp_path / "run"), uninterrupted)


def test_sigkill_mid_epoch_then_resume_gives_the_same_parameters(tmp_path, uninterrupted):
    out = tmp_path / "run"
    process = start_run(out)
    wait_for_rows(out, 32 + 10, process)  # 32 steps per epoch: killed inside epoch 1
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=30)
    names = [os.path.basename(p) for p in checkpoint.list_checkpoints(str(out / "checkpoints"))]
    assert names == ["epoch-0000"]
    resumed = subprocess.run(script_command("train.py", *RUN_ARGS, "--out", out, "--resume"),
                             capture_output=True, text=True, timeout=300)
    assert resumed.returncode == 0, resumed.stderr
    assert "resumed from" in resumed.stdout and "epoch 1, batch 0" in resumed.stdout
    assert_same_params(final_params(out), uninterrupted)
    with open(out / "metrics.csv") as handle:
        assert [line.split(",")[0] for line in handle][1:] == ["0", "1", "2"]


@pytest.mark.parametrize("signal_number", [signal.SIGINT, signal.SIGTERM])
def test_signal_writes_a_checkpoint_mid_epoch_and_resume_is_exact(tmp_path, signal_number,
                                                                   uninterrupted):
    out = tmp_path / "run"
    process = start_run(out)
    wait_for_rows(out, 12, process)
    process.send_signal(signal_number)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 130
    assert "stopped by %s at epoch 0 after batch" % signal.Signals(signal_number).name in stderr
    assert "--resume" in stderr and "Traceback" not in stderr
    names = [os.path.basename(p) for p in checkpoint.list_checkpoints(str(out / "checkpoints"))]
    assert len(names) == 1 and names[0].startswith("epoch-0000-batch-")
    resumed = subprocess.run(script_command("train.py", *RUN_ARGS, "--out", out, "--resume"),
                             capture_output=True, text=True, timeout=300)
    assert resumed.returncode == 0, resumed.stderr
    assert_same_params(final_params(out), uninterrupted)


# A stand-in worker whose step never finishes (its peers stopped one step earlier): the
# sleep stands for the push and pull that wait for them. Python resumes the sleep after
# each signal, as MXNet's C++ wait does. argv: the seconds of patience, then whether each
# poll sees one more finished step ("moving"), or no step in progress ("between").
STUCK_WORKER = """
import itertools, sys, time
import gluon_cnn
from gluon_cnn.training.signals import StopSignals, StuckStepWatch

case = sys.argv[2]
finished = itertools.count()
progress = {"stuck": lambda: (5, (0, 5)), "moving": lambda: (next(finished), (0, 5)),
            "between": lambda: (5, None)}[case]
with StopSignals(), StuckStepWatch(progress, lambda name: "rank 0 stopped by " + name,
                                   patience=float(sys.argv[1])):
    print("ready", flush=True)
    time.sleep(3)
print("the step finished", flush=True)
"""


@pytest.mark.parametrize("case, code, says", [
    ("stuck", 130, "error: rank 0 stopped by SIGTERM"),
    ("moving", 0, "the step finished"),  # steps still finish: the loop stops at its own check
    ("between", 0, "the step finished")])  # not in a step: an evaluation pass, say
def test_a_worker_stuck_in_a_step_after_a_stop_signal_ends(case, code, says):
    worker = subprocess.Popen([sys.executable, "-c", STUCK_WORKER, "0.3", case], cwd=ROOT,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert worker.stdout.readline() == "ready\n"
    started = time.time()
    worker.send_signal(signal.SIGTERM)
    stdout, stderr = worker.communicate(timeout=60)
    assert worker.returncode == code, stderr
    assert says in stdout + stderr and "Traceback" not in stderr
    if code:
        assert time.time() - started < 2.5  # it did not wait for the step to finish


def test_kill_during_checkpoint_write_leaves_the_last_good_one(tmp_path):
    out = tmp_path / "run"
    train(config(out, num_epochs=2))
    folder = out / "checkpoints"
    # What a kill in the middle of writing epoch 2's leaves: a temporary folder, half written.
    partial = folder / ".epoch-0002.tmp999"
    partial.mkdir()
    (partial / "net.params").write_bytes(b"\x00" * 10)
    path, state = checkpoint.latest_valid(str(folder))
    assert os.path.basename(path) == "epoch-0001" and state["epoch"] == 2
    train(config(out, num_epochs=3, resume=True))
    assert os.path.isdir(folder / "epoch-0002")


def test_truncated_latest_checkpoint_is_skipped_with_a_warning(tmp_path, caplog):
    caplog.set_level(logging.INFO)
    out = tmp_path / "run"
    train(config(out, num_epochs=2))
    params = out / "checkpoints" / "epoch-0001" / "net.params"
    params.write_bytes(params.read_bytes()[:64])
    train(config(out, num_epochs=3, resume=True))
    assert "epoch-0001 is damaged or incomplete" in caplog.text
    assert "epoch 1, batch 0" in caplog.text


def test_full_disk_leaves_no_partial_checkpoint(tmp_path, monkeypatch):
    out = tmp_path / "run"
    train(config(out, num_epochs=1))

    def disk_full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")
    monkeypatch.setattr(optimizer_state, "save", disk_full)
    with pytest.raises(UserError, match="the disk is full; the last complete checkpoint is "
                                        ".*epoch-0000"):
        train(config(out, num_epochs=2, resume=True))
    folder = out / "checkpoints"
    assert sorted(os.listdir(folder)) == ["epoch-0000"]  # no temporary or partial folder
    monkeypatch.undo()
    train(config(out, num_epochs=2, resume=True))  # and --resume carries on from it


def test_nan_loss_stops_quickly_and_keeps_checkpoints(tmp_path):
    out = tmp_path / "run"
    train(config(out, num_epochs=1))
    before = final_params(out, 1)
    with pytest.raises(UserError, match=r"the loss became (nan|inf) at iteration \d+ .*lower it"):
        train(config(out, num_epochs=3, lr=1e9, resume=True))
    assert_same_params(final_params(out, 1), before)


def test_resume_with_other_settings_says_what_differs(tmp_path):
    out = tmp_path / "run"
    train(config(out, num_epochs=1))
    with pytest.raises(UserError, match="image_size was 32, now 40"):
        train(config(out, num_epochs=2, image_size=40, resume=True))
    with pytest.raises(UserError, match="net was lenet5, now resnet18"):
        train(config(out, num_epochs=2, net="resnet18", resume=True))


def test_the_main_network_with_dropout_resumes_bit_for_bit(tmp_path, monkeypatch):
    """googlenet's dropout draws from MXNet's generator, reseeded from the step's position;
    without the reseed the resumed run's masks, and so its weights, differ."""
    def tiny(out, **overrides):
        return config(out, net="googlenet", image_size=96, synthetic_samples=24, batch_size=8,
                      num_epochs=2, optimizer="sgd", lr=0.05, momentum=0.0, **overrides)
    train(tiny(tmp_path / "straight"))
    train_crashing_after(tiny(tmp_path / "run"), 1, monkeypatch)
    train(tiny(tmp_path / "run", resume=True))
    assert_same_params(final_params(tmp_path / "run", 2), final_params(tmp_path / "straight", 2))


def test_a_run_that_died_before_its_first_checkpoint_can_simply_be_run_again(tmp_path, caplog):
    out = tmp_path / "run"
    out.mkdir()
    # what a crash in the first epoch leaves: settings, a header, a few iteration rows
    (out / "config.json").write_text("{}")
    (out / "metrics.csv").write_text("epoch,smoothed_loss\n")
    (out / "iterations.csv").write_text("iteration,epoch,smoothed_loss,lr\n1,0,2.3,0.1\n")
    (out / "checkpoints" / ".epoch-0000.tmp99").mkdir(parents=True)  # a write cut short
    with caplog.at_level(logging.INFO):
        train(config(out, num_epochs=1))
    assert "ended before its first checkpoint" in caplog.text
    rows = (out / "iterations.csv").read_text().splitlines()
    assert rows[1].startswith("1,0,") and "2.3,0.1" not in rows[1]  # the new run's own rows


def test_a_finished_epoch_without_a_checkpoint_is_still_protected(tmp_path):
    out = tmp_path / "run"
    out.mkdir()
    (out / "metrics.csv").write_text("epoch,smoothed_loss\n0,1.5\n")
    with pytest.raises(UserError, match="already holds a training run"):
        train(config(out, num_epochs=1))
    assert (out / "metrics.csv").read_text() == "epoch,smoothed_loss\n0,1.5\n"


def test_a_schedule_too_short_to_move_is_one_line(tmp_path):
    result = subprocess.run(script_command("train.py", *RUN_ARGS, "--lr-mode", "cosine",
                                           "--max-train-samples", "16", "--num-epochs", "1",
                                           "--out", tmp_path / "run"),
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "--lr-mode cosine needs at least 2 iterations" in result.stderr
