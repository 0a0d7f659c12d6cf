"""What a finished run folder tells the tools that read it (export, inspection): its
settings and its data, as it was trained."""
import json
import os

from .data import load_dataset
from .errors import UserError
from .paths import RunFolder


def read_run_config(run_dir):
    """The run's config.json; one sentence when ``run_dir`` is not a run folder."""
    path = RunFolder(run_dir).config
    if not os.path.isfile(path):
        raise UserError("%s is not a training run folder: it has no config.json." % run_dir)
    try:
        with open(path) as handle:
            return json.load(handle)
    except ValueError:
        raise UserError("%s is not valid JSON; is %s a training run folder?" % (path, run_dir)) \
            from None


def run_resize(config):
    """The resize a run was trained with; runs that predate the choice used the aligned one."""
    return config.get("resize", "aligned")


def run_dataset(config, data_dir=None):
    """The run's data set (train and test splits, classes), from ``data_dir`` when the data
    has moved since."""
    return load_dataset(config["dataset"], data_dir or config.get("data_dir"),
                        config["image_size"],
                        synthetic_samples=config["synthetic_samples"],
                        seed=config["seed"])
