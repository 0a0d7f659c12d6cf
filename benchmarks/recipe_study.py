#!/usr/bin/env python
"""A recipe trained over several seeds, and over variants of it: each run's final test
accuracy (with and without its TTA) and time, and each variant's mean and spread.

Every run is ``scripts/train.py --recipe RECIPE --seed S`` in a process of its own, with the
variant's train.py flags and ``--flags`` (common to all) added, in ``OUT/seed-S`` for the
baseline and ``OUT/VARIANT/seed-S`` for a variant.
A finished run (its export written) is read, not trained again, and an interrupted one
continues with ``--resume``, so a study can be carried across sessions; stop it with Ctrl-C
as any run. The times are read from each run's ``train.log``: the data's loading, and the
first step to the final evaluation (the epochs' logged seconds, added up, for a run that
was resumed); they are speed figures only when nothing else shared the CPU.

The CPU speedrun's seeded runs (issue 24)::

    python benchmarks/recipe_study.py --recipe airbench94 --data-dir /tmp/cifar10 \\
        --seeds 0 1 2 3 4 --out results/airbench94-cifar10 \\
        --table results/airbench94-cifar10/table.md

``--tabulate-only`` trains nothing: it tabulates the finished runs and names the others.

What each trick adds: a variant is ``NAME: FLAGS`` (``baseline`` has none). ``jpeg=Q`` in a
variant's flags trains on a copy of the data re-encoded once more as JPEG at quality Q, and
``jpeg-shift=S`` encodes it on a block grid moved by S pixels, which costs a whole
generation where the aligned re-encoding changes almost nothing (seed_study.reencoded_copy):
what one more generation of the shared copy's compression costs::

    python benchmarks/recipe_study.py --recipe airbench94 --data-dir /tmp/cifar10 \\
        --seeds 0 1 --out runs/airbench-ablation --variant baseline \\
        --variant "no-lookahead: --lookahead 0" --variant "jpeg75: jpeg=75 jpeg-shift=4"
"""
import argparse
import json
import os
import re
import shlex
import statistics
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir))
from seed_study import print_table, reencoded_copy  # noqa: E402

from gluon_cnn.cli import run_main  # noqa: E402
from gluon_cnn.csvlog import read_csv  # noqa: E402
from gluon_cnn.errors import UserError  # noqa: E402
from gluon_cnn.paths import RunFolder  # noqa: E402
from gluon_cnn.recipes import load_recipe, machines_of  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TRAIN = os.path.join(ROOT, "scripts", "train.py")
LOADED = re.compile(r"^data in memory in ([\d.]+) s$")
TRAINED = re.compile(r"^training: ([\d.]+) s from the first step to the final evaluation$")


def parse_variant(text):
    """"baseline" -> ("baseline", []); "no-tta: --tta none" -> ("no-tta", ["--tta", "none"])."""
    name, colon, flags = text.partition(":")
    name = name.strip()
    if (not re.fullmatch(r"[A-Za-z0-9_.=+-]+", name) or (not colon and name != "baseline")
            or (name == "baseline" and flags.strip())):
        raise UserError("--variant takes 'baseline' (the recipe as it is) or 'NAME: TRAIN.PY "
                        "FLAGS' with a NAME of letters, digits and -_.=+; got '%s'." % text)
    return name, shlex.split(flags)


def _study_number(flag, name, low, high):
    try:
        value = int(flag[len(name) + 1:])
    except ValueError:
        value = None
    if value is None or not low <= value <= high:
        raise UserError("%s=N takes a whole number from %d to %d; got '%s'."
                        % (name, low, high, flag))
    return value


def split_jpeg(flags):
    """(train.py flags, JPEG quality or None, grid shift): the study's own ``jpeg=Q`` and
    ``jpeg-shift=S`` taken out."""
    quality, shift, rest = None, 0, []
    for flag in flags:
        if flag.startswith("jpeg="):
            quality = _study_number(flag, "jpeg", 1, 100)
        elif flag.startswith("jpeg-shift="):
            shift = _study_number(flag, "jpeg-shift", 0, 7)
        else:
            rest.append(flag)
    if shift and quality is None:
        raise UserError("jpeg-shift=S needs jpeg=Q beside it.")
    return rest, quality, shift


def is_finished(folder):
    run = RunFolder(folder)
    if not os.path.isfile(run.config) or not os.path.isfile(run.metrics):
        return False
    with open(run.config) as handle:
        net = json.load(handle)["net"]
    return os.path.isfile(run.export(net).symbol)


def train_one(args, flags, seed, folder):
    """Train (or continue) one run in its own process unless it is finished."""
    if is_finished(folder):
        return
    flags, quality, shift = split_jpeg(flags)
    data_dir = args.data_dir
    if quality is not None:
        name = "data-jpeg%d" % quality + ("-shift%d" % shift if shift else "")
        data_dir = reencoded_copy(args.data_dir, quality, os.path.join(args.work_dir, name),
                                  shift)
    resume = os.path.isdir(RunFolder(folder).checkpoints) and bool(
        os.listdir(RunFolder(folder).checkpoints))
    command = ([sys.executable, TRAIN, "--recipe", args.recipe, "--data-dir", data_dir,
                "--seed", str(seed), "--out", folder] + shlex.split(args.flags) + flags
               + (["--resume"] if resume else []))
    print("+ " + " ".join(shlex.quote(part) for part in command), flush=True)
    status = subprocess.call(command)
    if status:
        raise UserError("the run in %s stopped (exit status %d); run the study again to "
                        "continue it." % (folder, status))


def read_run(folder, seed):
    """A finished run's figures from its logs."""
    run = RunFolder(folder)
    rows = read_csv(run.metrics)
    last = rows[-1]
    loaded, trained, pieces = [], [], 0
    with open(run.log, encoding="utf-8") as handle:
        for line in handle:
            line = line.strip()
            pieces += line.startswith("# machine: ")
            for pattern, found in ((LOADED, loaded), (TRAINED, trained)):
                match = pattern.match(line)
                if match:
                    found.append(float(match.group(1)))
    # one process timed it whole; otherwise the epochs' seconds are what there is
    timed = pieces == 1 and len(trained) == 1
    return {"seed": seed, "test_acc": float(last["test_acc"]),
            "test_acc_tta": float(last["test_acc_tta"]) if last.get("test_acc_tta") else None,
            "seconds": trained[0] if timed else sum(float(row["seconds"]) for row in rows),
            "timed": timed, "load_seconds": loaded[0] if loaded else None,
            "cpu": "; ".join(machines_of(folder))}


def _mean_sd(values):
    if not values:
        return "-"
    mean, spread, _ = _mean_spread_count(values)
    return "%.4f +- %.4f" % (mean, spread or 0.0)


def _minutes(seconds):
    return "%.1f min" % (seconds / 60)


def _mean_spread_count(diffs):
    return (statistics.mean(diffs), statistics.stdev(diffs) if len(diffs) > 1 else None,
            len(diffs))


def paired_differences(results, key="test_acc"):
    """Each variant against the baseline on the seeds both have (same seed: same
    initialization and batch order, so a pair starts alike):
    {variant: (mean difference, its sd or None, seeds paired)}."""
    baseline = {row["seed"]: row[key] for row in results.get("baseline", [])}
    paired = {}
    for name, rows in results.items():
        if name == "baseline":
            continue
        diffs = [row[key] - baseline[row["seed"]] for row in rows
                 if row[key] is not None and baseline.get(row["seed"]) is not None]
        if diffs:
            paired[name] = _mean_spread_count(diffs)
    return paired


def tta_gain(rows):
    """What TTA adds within each run: (mean, sd or None, runs), or None without TTA."""
    diffs = [row["test_acc_tta"] - row["test_acc"] for row in rows
             if row["test_acc_tta"] is not None]
    return _mean_spread_count(diffs) if diffs else None


def _points(difference):
    mean, spread, count = difference
    return "%+.2f%s (%d)" % (100 * mean, "" if spread is None else " +- %.2f" % (100 * spread),
                             count)


def paired_lines(results):
    """The Markdown of paired_differences, in points; none without a variant to pair."""
    plain, with_tta = paired_differences(results), paired_differences(results, "test_acc_tta")
    if not plain:
        return []
    lines = ["", "Against the baseline, seed by seed (points of test accuracy: mean +- sd of "
             "the per-seed differences, and how many seeds were paired):", "",
             "| variant | difference | with TTA, difference |", "| --- | ---: | ---: |"]
    gain = tta_gain(results["baseline"])
    if gain:
        lines.append("| baseline, with TTA against without | %s | - |" % _points(gain))
    for name, difference in plain.items():
        lines.append("| %s | %s | %s |" % (name, _points(difference),
                                           _points(with_tta[name]) if name in with_tta
                                           else "-"))
    return lines


def _seed_lists(runs):
    """[(a, 0), (a, 1), (b, 2)] as 'a seeds 0, 1; b seed 2'."""
    by_variant = {}
    for name, seed in runs:
        by_variant.setdefault(name, []).append(str(seed))
    return "; ".join("%s seed%s %s" % (name, "s" if len(seeds) > 1 else "", ", ".join(seeds))
                     for name, seeds in by_variant.items())


def table(recipe, results, command, under_way=(), not_started=()):
    """The study's Markdown: one row per run, then one per variant with runs."""
    lines = ["Recipe `%s`, written by:" % recipe, "", "    " + command, "",
             "| variant | seed | test accuracy | with TTA | first step to final evaluation "
             "| data loading | CPU |", "| --- | ---: | ---: | ---: | ---: | ---: | --- |"]
    for name, rows in results.items():
        for row in rows:
            lines.append("| %s | %d | %.4f | %s | %s%s | %s | %s |" % (
                name, row["seed"], row["test_acc"],
                "%.4f" % row["test_acc_tta"] if row["test_acc_tta"] is not None else "-",
                _minutes(row["seconds"]), "" if row["timed"] else " (epochs added up)",
                "%.0f s" % row["load_seconds"] if row["load_seconds"] is not None else "-",
                row["cpu"]))
    lines += ["", "| variant | runs | test accuracy, mean +- sd | with TTA, mean +- sd | "
              "slowest run |", "| --- | ---: | ---: | ---: | ---: |"]
    for name, rows in results.items():
        if not rows:
            continue
        with_tta = [row["test_acc_tta"] for row in rows if row["test_acc_tta"] is not None]
        lines.append("| %s | %d | %s | %s | %s |" % (
            name, len(rows), _mean_sd([row["test_acc"] for row in rows]), _mean_sd(with_tta),
            _minutes(max(row["seconds"] for row in rows))))
    lines += paired_lines(results)
    lines += ["", "Times are the runs' own (train.log): from the first training step to the end "
              "of the final evaluation, or, marked, the epochs' logged seconds added up (a "
              "run trained in pieces, or before the trainer logged the whole); data loading (the image folders decoded into memory) apart."]
    if under_way:
        lines += ["", "Started, not finished yet, so not in the table: %s."
                  % _seed_lists(under_way)]
    if not_started:
        lines += ["", "Not started: %s." % _seed_lists(not_started)]
    return "\n".join(lines) + "\n"


def build_parser():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--recipe", required=True, help="a recipe of train.py --list-recipes")
    parser.add_argument("--data-dir", required=True, help="the dataset, as train.py reads it")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    parser.add_argument("--variant", action="append", default=None,
                        help="'baseline' or 'NAME: TRAIN.PY FLAGS' (repeatable; default: "
                             "baseline)")
    parser.add_argument("--flags", default="",
                        help="train.py flags every run gets, e.g. '--num-epochs 3'")
    parser.add_argument("--out", required=True, help="folder of the study's runs")
    parser.add_argument("--work-dir", default=os.path.join("runs", "recipe_study-data"),
                        help="folder for the re-encoded data copies of jpeg=Q")
    parser.add_argument("--table", default=None, help="also write the Markdown table here")
    parser.add_argument("--tabulate-only", action="store_true",
                        help="train nothing: tabulate the runs that are finished and name the "
                             "others")
    return parser


def main(argv=None):
    args = build_parser().parse_args(argv)
    load_recipe(args.recipe)  # an unknown recipe is refused before anything trains
    variants = [parse_variant(text) for text in args.variant or ["baseline"]]
    if len({name for name, _ in variants}) < len(variants):
        raise UserError("two --variant share a name; give each its own.")
    results, under_way, not_started = {}, [], []
    for name, flags in variants:
        rows = []
        for seed in args.seeds:
            # the baseline's runs lie in OUT itself, so that later variants compare with them
            folder = os.path.join(args.out, *([] if name == "baseline" else [name]),
                                  "seed-%d" % seed)
            if args.tabulate_only and not is_finished(folder):
                (under_way if os.path.isdir(folder) else not_started).append((name, seed))
                continue
            train_one(args, flags, seed, folder)
            rows.append(read_run(folder, seed))
        results[name] = rows
    command = "python benchmarks/recipe_study.py " + " ".join(
        shlex.quote(part) for part in (sys.argv[1:] if argv is None else argv))
    print_table(table(args.recipe, results, command, under_way, not_started), args.table)


if __name__ == "__main__":
    sys.exit(run_main(main))
