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
    epochs_done: int
    epochs_planned: int
    test_acc: float
    test_acc_tta: float  # None without test-time augmentation
    hours: float  # the epochs' wall time added up (logged seconds)
    cpu: str  # the CPUs its pieces ran on

    def line(self):
        tta = ", %.4f with TTA" % self.test_acc_tta if self.test_acc_tta is not None else ""
        state = ("" if self.epochs_done >= self.epochs_planned
                 else " (in progress: %d of %d epochs)" % (self.epochs_done, self.epochs_planned))
        return ("%s: %s, test accuracy %.4f%s after %d epochs, %.1f h, %s%s"
                % (self.run, self.net, self.test_acc, tta, self.epochs_done, self.hours,
                   self.cpu, state))


def measured_result(run_folder):
    """What a run folder's config.json and metrics.csv say; None where it has no epoch."""
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
    return MeasuredResult(run_folder, config["net"], len(rows), config["num_epochs"],
                          float(last["test_acc"]), float(tta) if tta else None,
                          sum(float(row["seconds"]) for row in rows) / 3600.0,
                          "; ".join(machines_of(folder)) or "CPU not recorded")


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
            accuracy = "%.4f" % result.test_acc + (
                " (%.4f with TTA)" % result.test_acc_tta if result.test_acc_tta is not None
                else "")
            epochs = ("%d" % result.epochs_done if result.epochs_done >= result.epochs_planned
                      else "%d of %d so far" % (result.epochs_done, result.epochs_planned))
            rows.append("| `%s` | `%s` | %s | %s | %.1f h | %s |" % (
                result.net, name, epochs, accuracy, result.hours, result.cpu))
    return "\n".join(rows)
