"""Named recipes: training settings kept as data, one JSON file per recipe in this folder.

A recipe has a ``description`` (what it is for), a ``source`` (the paper or tutorial it comes
from), ``settings`` (TrainConfig fields) and ``results`` (run folders under ``results/``
that it produced). ``train.py --recipe NAME`` starts from its settings, flags on the command
line override them, and the run's ``config.json`` records the recipe and every value.
``train.py --list-recipes`` prints each recipe with the measured result of its runs.
"""
import dataclasses
import json
import os

from ..csvlog import read_csv
from ..errors import UserError

FOLDER = os.path.dirname(os.path.abspath(__file__))
# the project's root, where the results/ folders that recipes name live in a clone
PROJECT_ROOT = os.path.dirname(os.path.dirname(FOLDER))


@dataclasses.dataclass(frozen=True)
class Recipe:
    name: str
    description: str
    source: str
    settings: dict
    results: tuple


def list_recipes():
    return sorted(name[:-len(".json")] for name in os.listdir(FOLDER) if name.endswith(".json"))


def load_recipe(name):
    """The recipe ``name``, or a UserError listing the recipes there are."""
    path = os.path.join(FOLDER, "%s.json" % name)
    if name not in list_recipes():
        raise UserError("unknown recipe '%s'; choose one of: %s (train.py --list-recipes "
                        "describes each)." % (name, ", ".join(list_recipes())))
    with open(path) as handle:
        data = json.load(handle)
    return Recipe(name, data["description"], data["source"], data["settings"],
                  tuple(data.get("results", ())))


@dataclasses.dataclass(frozen=True)
class MeasuredResult:
    run: str
    net: str
    epochs_done: float
    epochs_planned: float
    test_acc: float
    test_acc_tta: float  # None without test-time augmentation
    hours: float  # the epochs' wall time added up (logged seconds); of the slowest run
    cpu: str  # the CPUs its pieces ran on
    runs: int = 1  # a folder of seeded runs: how many; the accuracies are their means

    @property
    def finished(self):
        return self.epochs_done >= self.epochs_planned

    def accuracy(self):
        """"0.9123", with its TTA figure and, for several runs, that it is their mean."""
        text = "%.4f" % self.test_acc + (" (%.4f with TTA)" % self.test_acc_tta
                                         if self.test_acc_tta is not None else "")
        return text + (", mean of %d seeded runs" % self.runs if self.runs > 1 else "")

    def epochs(self):
        done = "%g" % self.epochs_done
        return done if self.finished else "%s of %g so far" % (done, self.epochs_planned)

    def wall_time(self):
        longest = "longest run " if self.runs > 1 else ""
        return longest + ("%.1f h" % self.hours if self.hours >= 1 else
                          "%.0f min" % (self.hours * 60))

    def line(self):
        state = ("" if self.finished else " (in progress: %g of %g epochs)"
                 % (self.epochs_done, self.epochs_planned))
        return ("%s: %s, test accuracy %s after %g epoch%s, %s, %s%s"
                % (self.run, self.net, self.accuracy(), self.epochs_done,
                   "" if self.epochs_done == 1 else "s", self.wall_time(), self.cpu, state))


def measured_result(run_folder):
    """What a run folder's config.json and metrics.csv say, or, for a folder of finished
    seeded runs (``seed-*/``, benchmarks/recipe_study.py's), their means; None where there
    is no epoch."""
    folder = os.path.join(PROJECT_ROOT, run_folder)
    if not os.path.isfile(os.path.join(folder, "metrics.csv")) and os.path.isdir(folder):
        return _mean_of_runs(run_folder, sorted(
            name for name in os.listdir(folder) if name.startswith("seed-")))
    return _one_run(run_folder)


def _one_run(run_folder):
    folder = os.path.join(PROJECT_ROOT, run_folder)
    metrics = os.path.join(folder, "metrics.csv")
    if not os.path.isfile(metrics):
        return None
    rows = read_csv(metrics)
    if not rows:
        return None
    with open(os.path.join(folder, "config.json")) as handle:
        config = json.load(handle)
    last = rows[-1]
    tta = last.get("test_acc_tta") or None
    # a fractional --num-epochs (airbench's 9.9) ends inside its last logged epoch
    done = min(len(rows), config["num_epochs"])
    return MeasuredResult(run_folder, config["net"], done, config["num_epochs"],
                          float(last["test_acc"]), float(tta) if tta else None,
                          sum(float(row["seconds"]) for row in rows) / 3600.0,
                          "; ".join(machines_of(folder)) or "CPU not recorded")


def _mean_of_runs(run_folder, names):
    results = [_one_run(os.path.join(run_folder, name)) for name in names]
    results = [result for result in results if result is not None and result.finished]
    if not results:
        return None
    with_tta = [result.test_acc_tta for result in results if result.test_acc_tta is not None]
    cpus = []
    for result in results:
        cpus += [cpu for cpu in result.cpu.split("; ") if cpu not in cpus]
    return MeasuredResult(run_folder, results[0].net, results[0].epochs_done,
                          results[0].epochs_planned,
                          sum(result.test_acc for result in results) / len(results),
                          sum(with_tta) / len(with_tta) if len(with_tta) == len(results)
                          else None, max(result.hours for result in results), "; ".join(cpus),
                          runs=len(results))


def machines_of(folder):
    """The CPUs a run's pieces ran on, in order, as the '# machine:' lines of its train.log
    name them (each piece writes one)."""
    path = os.path.join(folder, "train.log")
    machines = []
    if os.path.isfile(path):
        with open(path, encoding="utf-8") as handle:
            for line in handle:
                if line.startswith("# machine: "):
                    cpu = line[len("# machine: "):].split(";")[0].strip()
                    if cpu not in machines:
                        machines.append(cpu)
    return machines


def describe_recipes():
    """The listing of --list-recipes: each recipe, what it is for, its source and results."""
    lines = []
    for name in list_recipes():
        recipe = load_recipe(name)
        lines += [name, "  " + recipe.description, "  source: " + recipe.source]
        results = [measured_result(run) for run in recipe.results]
        results = [result for result in results if result is not None]
        lines += ["  result: " + result.line() for result in results] or [
            "  result: none measured yet"]
        lines.append("")
    return "\n".join(lines).rstrip()


def recipes_table():
    """The README's "Recipes and results" table: one row per measured run of a recipe."""
    rows = ["| network | recipe | epochs | test accuracy | wall time | CPU |",
            "| --- | --- | ---: | ---: | ---: | --- |"]
    for name in list_recipes():
        for run in load_recipe(name).results:
            result = measured_result(run)
            if result is None:
                continue
            rows.append("| `%s` | `%s` | %s | %s | %s | %s |" % (
                result.net, name, result.epochs(), result.accuracy(), result.wall_time(),
                result.cpu))
    return "\n".join(rows)
