"""A real parameter-server job on loopback: 1 scheduler, 1 server, 2 workers."""
import os
import re
import subprocess
import sys

from conftest import ROOT, run_script


def test_dist_sync_two_workers_agree_and_learn(tmp_path):
    out = tmp_path / "run"
    train_command = [sys.executable, os.path.join(ROOT, "scripts", "train.py"), "--net",
                     "lenet5", "--dataset", "synthetic", "--synthetic-samples", "512",
                     "--image-size", "32", "--batch-size", "16", "--num-epochs", "3",
                     "--optimizer", "adam", "--lr", "0.003", "--kvstore", "dist_sync",
                     "--log-interval", "4", "--no-progress", "--out", str(out)]
    result = subprocess.run([sys.executable, os.path.join(ROOT, "scripts", "launch.py"),
                             "-n", "2", "-s", "1", "--timeout", "240", "--"] + train_command,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    digests = dict(re.findall(r"rank (\d) of 2: final parameters sha256 (\w+)", result.stdout))
    assert set(digests) == {"0", "1"} and digests["0"] == digests["1"]
    with open(out / "metrics.csv") as handle:
        rows = [line.split(",") for line in handle][1:]
    assert len(rows) == 3 and float(rows[-1][1]) < float(rows[0][1])
    assert (out / "lenet5-symbol.json").exists()
    assert not [name for name in os.listdir(out) if "rank" in name]  # only rank 0 wrote


def test_failed_worker_stops_the_job_with_a_message(tmp_path):
    # One worker of a real training job fails on bad input; the other would wait for it
    # forever in the synchronous all-reduce.
    command = [sys.executable, os.path.join(ROOT, "scripts", "train.py"), "--net", "lenet5",
               "--dataset", "synthetic", "--image-size", "32", "--kvstore", "dist_sync",
               "--out", str(tmp_path / "run"), "--no-progress", "--batch-size", "16"]
    crash = ("import os, runpy, sys; sys.argv = %r; sys.path.insert(0, os.path.dirname(sys.argv[0])); "
             "os.environ['DMLC_ROLE'] == 'worker' and os.environ.get('CRASH') and "
             "sys.argv.extend(['--lr', '-1']); runpy.run_path(sys.argv[0], run_name='__main__')"
             % command[1:])
    env = dict(os.environ, CRASH="1")
    result = subprocess.run([sys.executable, os.path.join(ROOT, "scripts", "launch.py"),
                             "-n", "2", "-s", "1", "--timeout", "120", "--", sys.executable,
                             "-c", crash], capture_output=True, text=True, timeout=180, env=env)
    assert result.returncode == 2
    assert re.search(r"worker \d exited with status 2; stopped the other processes",
                     result.stderr), result.stderr
    assert "--lr must be positive" in result.stderr


def test_dist_kvstore_outside_a_job_is_a_clear_error(tmp_path):
    result = run_script("train.py", "--kvstore", "dist_sync", "--dataset", "synthetic",
                        "--out", str(tmp_path / "r"))
    assert result.returncode == 2 and "start it with scripts/launch.py" in result.stderr
