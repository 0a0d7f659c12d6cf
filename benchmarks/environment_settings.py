#!/usr/bin/env python
"""What runtime settings (glibc malloc, OpenMP, MXNet variables) do to the training step.

Runs ``scripts/bench.py --mode train`` (googlenet, batch 64, 96 px, hybridized
unless ``--no-hybridize``, gluon_cnn's defaults) in fresh processes, one per setting per
round, alternating, and prints each setting's median time per step and peak resident
memory, and both as ratios to the first setting. A setting is a space-separated list of
NAME=VALUE pairs; "default" adds nothing.

    python benchmarks/environment_settings.py --rounds 3 default MALLOC_MMAP_THRESHOLD_=65536
"""
import argparse
import json
import os
import statistics
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def parse_setting(text):
    if text == "default":
        return {}
    pairs = [item.split("=", 1) for item in text.split()]
    if any(len(pair) != 2 or not pair[0] for pair in pairs):
        sys.exit("error: a setting is 'default' or NAME=VALUE pairs; got %r." % text)
    return dict(pairs)


def run(setting, args):
    command = [sys.executable, os.path.join(ROOT, "scripts", "bench.py"), "--net", args.net,
               "--batch-size", str(args.batch_size), "--image-size", str(args.image_size),
               "--mode", "train", "--steps", str(args.steps), "--repeats", str(args.repeats),
               "--json"] + ([] if args.hybridize else ["--no-hybridize"])
    done = subprocess.run(command, capture_output=True, text=True, check=True,
                          env=dict(os.environ, **parse_setting(setting)))
    result = json.loads(done.stdout)
    return result["train"]["ms_per_step"], result["peak_rss_mib"]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("settings", nargs="+", help="'default' or 'NAME=VALUE [NAME=VALUE]'")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--net", default="googlenet")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--image-size", type=int, default=96)
    parser.add_argument("--steps", type=int, default=5)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--no-hybridize", dest="hybridize", action="store_false",
                        help="time the imperative step instead")
    args = parser.parse_args()
    for setting in args.settings:
        parse_setting(setting)  # refuse a malformed one before any run
    samples = {setting: [] for setting in args.settings}
    for _ in range(args.rounds):
        for setting in args.settings:
            samples[setting].append(run(setting, args))
    base_ms = statistics.median(ms for ms, _ in samples[args.settings[0]])
    base_rss = statistics.median(rss for _, rss in samples[args.settings[0]])
    print("%s, batch %d, %d px, %s training step; medians of %d rounds in alternating fresh "
          "processes" % (args.net, args.batch_size, args.image_size,
                         "hybridized" if args.hybridize else "imperative", args.rounds))
    print("%-40s %9s %9s %9s %9s" % ("setting", "ms/step", "vs first", "RSS MiB", "vs first"))
    for setting in args.settings:
        ms = statistics.median(value for value, _ in samples[setting])
        rss = statistics.median(value for _, value in samples[setting])
        print("%-40s %9.1f %8.2fx %9.0f %8.2fx" % (setting, ms, ms / base_ms, rss,
                                                    rss / base_rss))
    print(json.dumps(samples))


if __name__ == "__main__":
    main()
