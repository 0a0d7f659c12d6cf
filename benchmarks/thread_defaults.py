#!/usr/bin/env python
"""What gluon_cnn's thread default (OMP_NUM_THREADS = usable cores, set at import) is worth.

Runs the googlenet training step (batch 64, 96 px, hybridized) in fresh processes,
alternating: MXNet as a user gets it when mxnet is imported first (OpenMP reads its
environment when libmxnet loads, so gluon_cnn's default cannot apply), and gluon_cnn's
default. Prints the medians and their ratio.

    python benchmarks/thread_defaults.py --rounds 3
"""
import argparse
import json
import os
import statistics
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CODE = """
import sys; sys.path.insert(0, %r)
%s
import json
from gluon_cnn import bench
result = bench.benchmark("googlenet", 64, 96, "train", steps=%d, repeats=%d)
import os
result["omp_seen_by_process"] = os.environ.get("OMP_NUM_THREADS")
print(json.dumps(result))
"""


def run(variant, steps, repeats):
    first = "import mxnet" if variant == "mxnet default" else "import gluon_cnn"
    env = {key: value for key, value in os.environ.items() if key != "OMP_NUM_THREADS"}
    done = subprocess.run([sys.executable, "-c", CODE % (ROOT, first, steps, repeats)],
                          capture_output=True, text=True, check=True, env=env)
    return json.loads(done.stdout.strip().splitlines()[-1])["train"]["ms_per_step"]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--steps", type=int, default=5)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    variants = ["mxnet default", "gluon_cnn default"]
    samples = {variant: [] for variant in variants}
    for _ in range(args.rounds):
        for variant in variants:
            samples[variant].append(run(variant, args.steps, args.repeats))
    medians = {variant: statistics.median(samples[variant]) for variant in variants}
    for variant in variants:
        print("%-18s %8.1f ms/step  (rounds: %s)" % (variant, medians[variant], ", ".join(
            "%.0f" % value for value in samples[variant])))
    print("speed-up from the default: %.2fx" % (medians["mxnet default"] /
                                                medians["gluon_cnn default"]))
    print(json.dumps(samples))


if __name__ == "__main__":
    main()
