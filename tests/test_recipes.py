"""Recipes: named settings as data, chosen with --recipe, overridden by flags, recorded in
config.json and listed with their measured results."""
import dataclasses
import json

import pytest

from gluon_cnn import UserError
from gluon_cnn.cli import train as train_cli
from gluon_cnn.recipes import list_recipes, load_recipe, measured_result
from gluon_cnn.training import TrainConfig

FIELDS = {field.name for field in dataclasses.fields(TrainConfig)}


@pytest.mark.parametrize("name", list_recipes())
def test_every_recipe_names_real_settings_that_validate(name):
    recipe = load_recipe(name)
    assert set(recipe.settings) <= FIELDS, set(recipe.settings) - FIELDS
    assert recipe.description and recipe.source
    TrainConfig(**recipe.settings).validate()


def test_the_gluon_tutorial_recipe_is_the_default_run():
    settings = load_recipe("gluon-tutorial").settings
    defaults = TrainConfig()
    assert {key: getattr(defaults, key) for key in settings} == settings


def test_the_resnet_paper_recipe_is_the_papers_section_4_2():
    settings = load_recipe("resnet-paper-cifar").settings
    iterations_per_epoch = 50000 // settings["batch_size"]
    decays = [int(epoch) * iterations_per_epoch
              for epoch in settings["lr_decay_epoch"].split(",")]
    # 32k and 48k iterations, stop at 64k, within one epoch
    for ours, paper in zip(decays + [settings["num_epochs"] * iterations_per_epoch],
                           (32000, 48000, 64000)):
        assert abs(ours - paper) < iterations_per_epoch
    assert (settings["momentum"], settings["wd"], settings["lr"], settings["batch_size"]) == (
        0.9, 1e-4, 0.1, 128)
    assert settings["normalize"] == "pixel" and settings["augment"]
    assert settings["net"] == "cifar_resnet20" and settings["image_size"] == 32


def configured(monkeypatch, *argv):
    """The TrainConfig train.py builds from ``argv`` (training itself is skipped)."""
    seen = []
    monkeypatch.setattr(train_cli, "train", seen.append)
    train_cli.main(list(argv))
    return seen[0]


def test_a_recipe_sets_defaults_and_flags_override_it(monkeypatch):
    config = configured(monkeypatch, "--recipe", "resnet-paper-cifar", "--net",
                        "cifar_resnet56", "--wd", "0.0005")
    assert config.recipe == "resnet-paper-cifar"
    assert (config.net, config.wd) == ("cifar_resnet56", 0.0005)  # the flags win
    assert (config.momentum, config.normalize, config.lr_decay_epoch) == (0.9, "pixel", "82,123")
    plain = configured(monkeypatch)
    assert plain == TrainConfig(out=plain.out)  # no recipe: exactly the defaults
    assert plain.recipe is None


def test_config_json_records_the_recipe_and_every_value(tmp_path, run_tool):
    out = tmp_path / "run"
    result = run_tool("train.py", "--recipe", "resnet-paper-cifar", "--dataset", "synthetic",
                        "--synthetic-samples", "32", "--batch-size", "16", "--num-epochs", "1",
                        "--lr-decay-epoch", "", "--out", out, "--no-progress")
    assert result.returncode == 0, result.stderr
    recorded = json.loads((out / "config.json").read_text())
    assert recorded["recipe"] == "resnet-paper-cifar"
    assert (recorded["net"], recorded["normalize"], recorded["init"]) == (
        "cifar_resnet20", "pixel", "kaiming")
    assert recorded["num_epochs"] == 1 and FIELDS <= set(recorded)
    assert recorded["machine"]["cpu"]


def test_listing_shows_every_recipe_with_its_result(tmp_path, monkeypatch, run_tool):
    result = run_tool("train.py", "--list-recipes")
    assert result.returncode == 0
    for name in list_recipes():
        assert "\n%s\n" % name in "\n" + result.stdout
    assert "test accuracy 0.7683 after 20 epochs" in result.stdout  # the main job's run
    assert "none measured yet" in result.stdout
    # a run still going says so
    folder = tmp_path / "results" / "run"
    folder.mkdir(parents=True)
    (folder / "config.json").write_text(json.dumps({"net": "cifar_resnet20", "num_epochs": 4}))
    (folder / "metrics.csv").write_text("epoch,test_acc,seconds,test_acc_tta\n0,0.5,3600,\n"
                                        "1,0.75,1800,0.8\n")
    (folder / "train.log").write_text("# 2026 cmd\n# machine: Some CPU, 2 cores usable; x\n")
    monkeypatch.setattr("gluon_cnn.recipes.PROJECT_ROOT", str(tmp_path))
    line = measured_result("results/run").line()
    assert line == ("results/run: cifar_resnet20, test accuracy 0.7500 (0.8000 with TTA) after "
                    "2 epochs, 1.5 h, Some CPU, 2 cores usable (in progress: 2 of 4 epochs)")
    (folder / "metrics.csv").write_text("epoch,test_acc,seconds,test_acc_tta\n0,0.5,3600,\n")
    assert "test accuracy 0.5000 after 1 epoch, 1.0 h" in measured_result("results/run").line()


def test_a_folder_of_seeded_runs_is_listed_as_their_mean(tmp_path, monkeypatch):
    def seeded_run(name, accuracies, seconds, cpu, num_epochs=1.5):
        folder = tmp_path / "results" / "study" / name
        folder.mkdir(parents=True)
        (folder / "config.json").write_text(json.dumps({"net": "airbench94",
                                                        "num_epochs": num_epochs}))
        rows = "".join("%d,%s,%s,%s\n" % (epoch, test, seconds, tta)
                       for epoch, (test, tta) in enumerate(accuracies))
        (folder / "metrics.csv").write_text("epoch,test_acc,seconds,test_acc_tta\n" + rows)
        (folder / "train.log").write_text("# 2026 cmd\n# machine: %s; Python\n" % cpu)

    seeded_run("seed-0", [(0.5, ""), (0.90, 0.92)], 600, "CPU A")
    seeded_run("seed-1", [(0.5, ""), (0.94, 0.95)], 900, "CPU B")
    seeded_run("seed-2", [(0.5, "")], 600, "CPU A", num_epochs=3)  # unfinished: left out
    monkeypatch.setattr("gluon_cnn.recipes.PROJECT_ROOT", str(tmp_path))
    result = measured_result("results/study")
    assert (result.runs, result.epochs_done) == (2, 1.5)
    assert result.accuracy() == "0.9200 (0.9350 with TTA), mean of 2 seeded runs"
    assert result.wall_time() == "longest run 30 min"  # two 900 s epochs
    assert result.cpu == "CPU A; CPU B"


def test_unknown_recipe_is_one_line(run_tool):
    result = run_tool("train.py", "--recipe", "fast")
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "error: unknown recipe 'fast'; choose one of: %s (train.py --list-recipes describes "
        "each)." % ", ".join(list_recipes())]
    with pytest.raises(UserError):
        load_recipe("../setup")
