"""What a newcomer walking through the README meets: nothing they have is overwritten, each
run keeps its own log, and every message says what is true."""
import os
import re
import signal
import subprocess
import time

import pytest

from conftest import check_ps_lite_abort, distributed_job, run_script, script_command
from gluon_cnn.cli import bench, export, launch, plot, predict, run_main, summary, train
from gluon_cnn.errors import UserError
from gluon_cnn.training import TrainConfig
from gluon_cnn.training import train as run_training
from helpers import quick_config


def test_runs_default_outside_the_committed_results():
    assert TrainConfig(net="googlenet").out == os.path.join("runs", "googlenet-cifar10-96px")


def test_a_folder_with_any_run_file_is_refused_and_left_as_it_was(tmp_path):
    # what results/ holds in git: logs and curves, but no checkpoints
    out = tmp_path / "committed"
    out.mkdir()
    files = {"config.json": '{"net": "googlenet"}', "metrics.csv": "epoch\n0\n"}
    for name, text in files.items():
        (out / name).write_text(text)
    with pytest.raises(UserError, match="already holds a training run .*config.json, "
                                        "metrics.csv.*--resume"):
        run_training(quick_config(tmp_path, out=str(out)))
    assert sorted(os.listdir(out)) == sorted(files)
    assert all((out / name).read_text() == text for name, text in files.items())


def test_every_run_logs_its_console_with_command_and_machine_across_resume(tmp_path):
    run_training(quick_config(tmp_path, num_epochs=1, synthetic_samples=120))
    run_training(quick_config(tmp_path, num_epochs=2, synthetic_samples=120, resume=True))
    lines = (tmp_path / "run" / "train.log").read_text().splitlines()
    headers = [index for index, line in enumerate(lines) if line.startswith("# machine: ")]
    assert len(headers) == 2  # one per invocation, appended
    assert "cores usable" in lines[headers[0]] and "MXNet 1.9.1" in lines[headers[0]]
    assert lines[headers[0] - 1].startswith("# 20")  # the date and the command line
    assert [line.split(",")[0] for line in lines if line.startswith("Epoch ")] \
        == ["Epoch 0", "Epoch 1"]
    assert any(line.startswith("resumed from") for line in lines[headers[1]:])
    # 120 images at batch 16: 7 full steps, 8 images left over, said once per invocation
    partial = [line for line in lines if "8 images left over" in line]
    assert len(partial) == 2 and "7 full batches" in partial[0]


def test_an_error_is_written_to_the_runs_log_too(tmp_path):
    with pytest.raises(UserError, match="No epoch has finished, so there is no checkpoint"):
        run_training(quick_config(tmp_path, lr=1e9, optimizer="sgd"))
    text = (tmp_path / "run" / "train.log").read_text()
    assert "error: the loss became" in text and "No epoch has finished" in text


def test_nan_after_a_checkpoint_names_it(tmp_path):
    run_training(quick_config(tmp_path, num_epochs=1))
    with pytest.raises(UserError, match=r"resume: it starts from .*epoch-0000"):
        run_training(quick_config(tmp_path, num_epochs=2, lr=1e9, optimizer="sgd",
                                  resume=True))


def one_line_error(capsys, main, argv):
    assert run_main(main, argv) == 2
    errors = capsys.readouterr().err.strip().splitlines()
    assert len(errors) == 1 and errors[0].startswith("error: ")
    return errors[0]


def test_plot_and_export_into_a_missing_folder_or_over_a_file(finished_run, tmp_path, capsys):
    missing = str(tmp_path / "missing_dir" / "x.png")
    assert "does not exist" in one_line_error(capsys, plot.main,
                                              [str(finished_run.run), "-o", missing])
    assert "does not exist" in one_line_error(
        capsys, export.main,
        [str(finished_run.run), "--prefix", str(tmp_path / "missing_dir" / "r")])
    # another export is replaced only when asked; the run's own curves.png, drawn from its
    # logs, is redrawn without asking
    assert run_main(export.main, [str(finished_run.run), "--prefix", str(tmp_path / "copy")]) == 0
    assert "--overwrite" in one_line_error(capsys, export.main, [
        str(finished_run.run), "--prefix", str(tmp_path / "copy")])
    (finished_run.run / "curves.png").write_bytes(b"stale")
    assert run_main(plot.main, [str(finished_run.run)]) == 0
    assert (finished_run.run / "curves.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize("args, message", [
    (["--steps", "0"], "--steps must be positive; got 0."),
    (["--batch-size", "0"], "--batch-size must be positive; got 0."),
])
def test_bench_names_the_flag_at_fault(args, message):
    result = run_script("bench.py", "--net", "lenet5", "--image-size", "32", *args)
    assert result.returncode == 2 and result.stderr.strip() == "error: " + message


@pytest.mark.parametrize("module", [train, export, predict, bench, summary, plot, launch])
def test_help_shows_each_default_once_and_none_for_switches(module, capsys):
    with pytest.raises(SystemExit):
        module.build_parser().parse_args(["--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "(default: None)" not in text
    assert "(default: True)" not in text and "(default: False)" not in text
    assert not re.search(r"default[^()]*\) \(default:", text)  # never said twice


@distributed_job
def test_interrupting_a_distributed_job_says_what_resume_will_do(tmp_path):
    out = tmp_path / "run"
    command = script_command("launch.py", "-n", 2, "-s", 1, "--timeout", 240, "--",
                             *script_command("train.py", "--net", "lenet5", "--dataset",
                                             "synthetic", "--synthetic-samples", 4096,
                                             "--image-size", 32, "--batch-size", 16,
                                             "--num-epochs", 5, "--kvstore", "dist_sync",
                                             "--log-interval", 1, "--no-progress", "--out",
                                             out))
    launcher = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                text=True)
    iterations = out / "iterations.csv"
    deadline = time.time() + 180
    while time.time() < deadline:
        if iterations.exists() and len(iterations.read_text().splitlines()) > 5:
            break
        if launcher.poll() is not None:
            output = "".join(launcher.communicate())
            check_ps_lite_abort(output)
            raise AssertionError("the job ended before it was interrupted:\n" + output)
        time.sleep(0.1)
    launcher.send_signal(signal.SIGINT)
    stdout, stderr = launcher.communicate(timeout=120)
    assert launcher.returncode == 130, stdout + stderr
    assert "Traceback" not in stderr and "None" not in stderr
    assert "error: interrupted: stopped the job's 4 processes" in stderr
    # epoch 0 cannot have finished (128 steps): rank 0 says there is nothing to resume from
    assert "No epoch has finished, so there is no checkpoint" in stderr
    assert not (out / "checkpoints").exists() or not os.listdir(out / "checkpoints")


def test_last_batch_keep_trains_the_partial_batch(tmp_path):
    import json
    run_training(quick_config(tmp_path, num_epochs=1, synthetic_samples=120, last_batch="keep"))
    facts = json.loads((tmp_path / "run" / "config.json").read_text())
    assert facts["iterations_per_epoch"] == 8 and facts["last_batch"] == "keep"  # 7 + 1 partial
    with pytest.raises(UserError, match="last_batch was keep, now discard"):
        run_training(quick_config(tmp_path, num_epochs=2, synthetic_samples=120, resume=True))


def test_resume_of_a_finished_committed_run_changes_nothing(tmp_path):
    out = tmp_path / "committed"
    out.mkdir()
    (out / "train.log").write_text("the run's log\n")
    (out / "metrics.csv").write_text("epoch\n0\n")
    with pytest.raises(UserError, match="--resume found no intact checkpoint"):
        run_training(quick_config(tmp_path, out=str(out), resume=True))
    assert (out / "train.log").read_text() == "the run's log\n"
    assert sorted(os.listdir(out)) == ["metrics.csv", "train.log"]
