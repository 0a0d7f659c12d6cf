"""A new user's mistakes, each answered by one line and exit status 2 with nothing lost, and
the outputs named as they are written (the second newcomer report)."""
import os

import pytest


pytestmark = pytest.mark.slow  # see pytest.ini


def one_line_refusal(result, says):
    assert result.returncode == 2, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("error: ")]
    assert len(errors) == 1 and says in errors[0], result.stderr


def test_data_dir_naming_a_file_or_an_uncreatable_place(tmp_path, run_tool):
    archive = tmp_path / "cifar-10-python.tar.gz"
    archive.write_bytes(b"not really")
    one_line_refusal(run_tool("train.py", "--data-dir", archive, "--out", tmp_path / "a"),
                     "is a file, not a folder")
    assert archive.read_bytes() == b"not really"
    one_line_refusal(run_tool("train.py", "--data-dir", archive / "inside", "--out",
                                tmp_path / "b"), "cannot create")


def test_an_image_size_no_tensor_can_hold(tmp_path, run_tool):
    one_line_refusal(run_tool("train.py", "--image-size", "100000", "--out", tmp_path / "a"),
                     "--image-size must be at most 4096")


def test_launch_with_a_command_that_does_not_exist(run_tool):
    one_line_refusal(run_tool("launch.py", "-n", "1", "-s", "1", "--", "no-such-program-x"),
                     "no-such-program-x: no such command here")


def test_a_damaged_params_file_in_predict(finished_run, tmp_path, run_tool):
    prefix = tmp_path / "broken"
    for suffix in ("-symbol.json", "-preprocess.json"):
        (tmp_path / ("broken" + suffix)).write_bytes(
            (finished_run.run / ("lenet5" + suffix)).read_bytes())
    (tmp_path / "broken-0000.params").write_bytes(b"junk")
    one_line_refusal(run_tool("predict.py", "--model", prefix, finished_run.image),
                     "broken-0000.params is not an MXNet parameter file")


def test_resume_with_no_more_epochs_to_train_writes_nothing(finished_run, run_tool):
    run = finished_run.run
    before = {name: os.path.getmtime(run / name) for name in os.listdir(run)}
    log = (run / "train.log").read_text()
    result = run_tool("train.py", "--net", "lenet5", "--dataset", "synthetic",
                        "--image-size", "32", "--synthetic-samples", "32", "--batch-size", "16",
                        "--optimizer", "adam", "--lr", "0.003", "--num-epochs", "1",
                        "--out", run, "--resume")
    one_line_refusal(result, "nothing to do")
    assert {name: os.path.getmtime(run / name) for name in os.listdir(run)} == before
    assert (run / "train.log").read_text() == log


def test_export_prefix_naming_a_folder_writes_inside_it(finished_run, tmp_path, run_tool):
    folder = tmp_path / "exports"
    folder.mkdir()
    result = run_tool("export.py", finished_run.run, "--prefix", folder)
    assert result.returncode == 0, result.stderr
    assert sorted(os.listdir(folder)) == ["lenet5-0000.params", "lenet5-preprocess.json",
                                          "lenet5-symbol.json"]
    assert not (tmp_path / "exports-symbol.json").exists()


def test_plot_names_what_it_writes_and_refuses_what_it_cannot(finished_run, tmp_path,
                                                              run_tool):
    run = finished_run.run
    first = run_tool("plot.py", run, "-o", tmp_path / "curves")
    assert first.returncode == 0 and first.stdout.strip() == str(tmp_path / "curves.png")
    again = run_tool("plot.py", run, "-o", tmp_path / "curves")
    one_line_refusal(again, "curves.png already exists")
    one_line_refusal(run_tool("plot.py", run, "-o", tmp_path / "x.txt"),
                     "plot.py writes png, pdf, svg")
    own = run_tool("plot.py", run)  # a finished run's own curves are redrawn
    assert own.returncode == 0 and own.stdout.strip().endswith("curves.png")


@pytest.mark.parametrize("content", ["", "garbage\n", "epoch,smoothed_loss\nx,y\n"])
def test_plot_on_junk_metrics(tmp_path, content, run_tool):
    (tmp_path / "metrics.csv").write_text(content)
    one_line_refusal(run_tool("plot.py", tmp_path, "-o", tmp_path / "p.png"),
                     "is not a training run's metrics.csv")
