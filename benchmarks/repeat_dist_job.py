"""How often MXNet 1.9.1's parameter server aborts a short job: runs the same 2-worker,
1-server ``dist_sync`` LeNet job (1 epoch of 512 synthetic images a worker) N times in a
row on loopback and counts the endings: success, ps-lite's abort (the launcher's line and
the message that matched), anything else. Run it beside a busy machine and on an idle
one; the abort is a race, so the load changes its rate::

    python benchmarks/repeat_dist_job.py --jobs 40

Exit status 0 when no job failed for another reason than the abort.
"""
import argparse
import os
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from gluon_cnn.distributed import PS_LITE_ABORT  # noqa: E402


def job_command(out):
    script = os.path.join(ROOT, "scripts", "%s.py")
    return [sys.executable, script % "launch", "-n", "2", "-s", "1", "--timeout", "240", "--",
            sys.executable, script % "train", "--net", "lenet5", "--dataset", "synthetic",
            "--synthetic-samples", "1024", "--image-size", "32", "--batch-size", "16",
            "--num-epochs", "1", "--kvstore", "dist_sync", "--log-interval", "1",
            "--no-progress", "--out", out]


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--jobs", type=int, default=20, help="how many jobs to run")
    args = parser.parse_args()
    aborts = others = 0
    with tempfile.TemporaryDirectory(prefix="repeat-dist-job-") as scratch:
        for number in range(1, args.jobs + 1):
            out = os.path.join(scratch, "job%d" % number)
            result = subprocess.run(job_command(out), capture_output=True, text=True,
                                    timeout=300)
            output = result.stdout + result.stderr
            abort = PS_LITE_ABORT.search(output)
            if result.returncode == 0:
                ending = "ok"
            elif abort:
                aborts += 1
                ending = "ps-lite abort: %s" % abort.group(0)
            else:
                others += 1
                ending = "other failure:\n" + output
            print("job %d: status %d, %s" % (number, result.returncode, ending), flush=True)
    print("%d jobs: %d ended by ps-lite's abort, %d by anything else"
          % (args.jobs, aborts, others))
    return 1 if others else 0


if __name__ == "__main__":
    sys.exit(main())
