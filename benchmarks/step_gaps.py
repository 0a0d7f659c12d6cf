#!/usr/bin/env python
"""What the training loop's per-step read-back costs: the time the engine has no step queued.

The trainer reads each step's loss back (``train_step``'s ``asscalar``) before it takes the
next batch, so between the return of step k and the dispatch of step k + 1 the engine idles
while the host does its share: the batch to NDArrays, the step's seed, the targets, the
metrics, the progress bar. This runs ``scripts/train.py`` with the given flags, times every
``train_step`` call, and reports the gaps between consecutive steps of an epoch (the epochs'
evaluations apart) against the steps themselves. Deferring the read-back by one step could
win at most the gaps' share.

    python benchmarks/step_gaps.py -- --recipe airbench94 --data-dir /tmp/cifar10 \\
        --max-train-samples 20480 --num-epochs 2 --tta none --out /tmp/step_gaps

The flags after ``--`` are train.py's; the first 3 steps (warm-up) are left out.
"""
import argparse
import json
import os
import statistics
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

WARMUP_STEPS = 3


def gaps_summary(calls, warmup=WARMUP_STEPS):
    """Figures from [(epoch, batch, entered, returned)] of consecutive train_step calls."""
    calls = calls[warmup:]
    steps = [returned - entered for _, _, entered, returned in calls]
    # each gap with the step it delayed
    pairs = [(after[2] - before[3], after[3] - after[2]) for before, after in zip(calls, calls[1:])
             if after[0] == before[0] and after[1] == before[1] + 1]
    if not pairs:
        raise SystemExit("error: fewer than %d steps within one epoch were timed; train "
                         "longer." % (warmup + 2))
    gaps = [gap for gap, _ in pairs]
    return {"steps": len(steps), "step_ms_median": 1e3 * statistics.median(steps),
            "gaps": len(gaps), "gap_ms_median": 1e3 * statistics.median(gaps),
            "gap_ms_max": 1e3 * max(gaps),
            "gap_share": sum(gaps) / sum(gap + step for gap, step in pairs)}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--json", help="also write the figures to this file")
    parser.add_argument("train_flags", nargs=argparse.REMAINDER,
                        help="-- then scripts/train.py's flags")
    args = parser.parse_args()
    flags = args.train_flags[1:] if args.train_flags[:1] == ["--"] else args.train_flags
    if not flags:
        parser.error("give train.py's flags after --")

    import gluon_cnn  # noqa: F401  (thread defaults before mxnet loads)
    from gluon_cnn._env import describe_cpu
    from gluon_cnn.cli import run_main
    from gluon_cnn.cli import train as train_cli
    from gluon_cnn.training import loop

    calls, where = [], {}
    timed_step, loop_step = loop.train_step, loop.TrainingRun.step

    def noting_where(self, epoch, batch, *rest, **kwargs):
        where["now"] = epoch, batch
        return loop_step(self, epoch, batch, *rest, **kwargs)

    def timing(*step_args, **step_kwargs):
        entered = time.perf_counter()
        result = timed_step(*step_args, **step_kwargs)
        calls.append(where["now"] + (entered, time.perf_counter()))
        return result

    loop.TrainingRun.step, loop.train_step = noting_where, timing
    status = run_main(train_cli.main, flags)
    if status:
        return status
    figures = gaps_summary(calls)
    figures.update(cpu=describe_cpu(), threads=os.environ.get("OMP_NUM_THREADS"),
                   train_flags=" ".join(flags))
    print("%d steps, median %.1f ms; %d gaps between steps of an epoch, median %.2f ms "
          "(largest %.2f ms): the engine idles %.2f%% of the steps' time (%s, %s threads)"
          % (figures["steps"], figures["step_ms_median"], figures["gaps"],
             figures["gap_ms_median"], figures["gap_ms_max"], 100 * figures["gap_share"],
             figures["cpu"], figures["threads"]))
    if args.json:
        with open(args.json, "w") as handle:
            json.dump(figures, handle, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
