"""Every flag of every tool with zero, negative, nonsensical and missing values: each answer
is a normal run or one clear line with exit status 2, never a traceback."""
import json
import os
import subprocess
import sys

import pytest

from conftest import ROOT
from gluon_cnn.cli import (bench, export, import_weights, inspect_run, launch, plot, predict,
                           summary, train, visualize)

pytestmark = pytest.mark.slow  # see pytest.ini

VALUES = ("0", "-1", "nonsense", "")
# The numeric flags for which -1 is a value that makes sense (each says why); every other
# flag that takes a number must refuse it
NEGATIVE_ALLOWED = {}
TOOLS = {"train": train, "export": export, "predict": predict, "bench": bench,
         "summary": summary, "plot": plot, "launch": launch, "inspect_run": inspect_run,
         "visualize": visualize, "import_weights": import_weights}


def value_options(module):
    """The option strings of a tool that take one value (switches take none)."""
    parser = module.build_parser()
    return [action.option_strings[-1] for action in parser._actions
            if action.option_strings and action.nargs is None and action.dest != "help"]


WEIGHTS = "resnet18.safetensors"  # written into the sweep's folder for import_weights


def write_resnet18_weights(path):
    from safetensors.torch import save_file
    from torch_models import import_torchvision
    model = import_torchvision().models.resnet18(num_classes=10)
    save_file({name: tensor.contiguous() for name, tensor in model.state_dict().items()}, path)


def base_arguments(tool, run, image, case):
    """Arguments that make a quick, valid call of ``tool``; the swept flag comes after them,
    so it overrides any of these."""
    return {
        "train": ["--net", "lenet5", "--dataset", "synthetic", "--synthetic-samples", "16",
                  "--image-size", "32", "--batch-size", "8", "--num-epochs", "1",
                  "--no-progress", "--no-eval-train", "--out", "run%d" % case],
        "export": [run, "--prefix", "export%d" % case],
        "predict": ["--model", os.path.join(run, "lenet5"), image],
        "bench": ["--net", "lenet5", "--image-size", "32", "--batch-size", "2", "--steps", "1",
                  "--repeats", "1", "--mode", "infer"],
        "summary": ["--net", "lenet5"],
        "plot": [run, "--output", "plot%d.png" % case],
        "launch": ["-n", "1", "-s", "1", "--timeout", "60"],
        "inspect_run": [run, "--out", "inspect%d" % case],
        "visualize": ["--net", "lenet5", "--image", image, "--out", "vis%d" % case],
        "import_weights": [WEIGHTS, "--net", "resnet18", "--out", "imported%d/" % case],
    }[tool]


def numeric_options(module):
    """The option strings of a tool whose value is a number (paths may well be "-1")."""
    parser = module.build_parser()
    return {option for action in parser._actions if action.type in (int, float)
            for option in action.option_strings}


def swept(argv):
    """(flag, value) a sweep case tries: the last two arguments, before launch's command."""
    end = argv.index("--") if "--" in argv else len(argv)
    return argv[end - 2], argv[end - 1]


def sweep_cases(tool, run, image):
    cases = []
    for option in value_options(TOOLS[tool]):
        for value in VALUES + (None,):  # None: the flag with its value missing
            base = base_arguments(tool, run, image, len(cases))
            swept = [option] if value is None else [option, value]
            # launch's command comes last, after "--"
            tail = ["--", sys.executable, "-c", "pass"] if tool == "launch" else []
            cases.append(base + swept + tail)
    return cases


@pytest.mark.parametrize("tool", sorted(TOOLS))
def test_every_flag_with_bad_values_gives_one_line_or_runs(tool, finished_run, tmp_path):
    cases = sweep_cases(tool, str(finished_run.run), finished_run.image)
    if tool == "import_weights":
        write_resnet18_weights(str(tmp_path / WEIGHTS))
    cases_file = tmp_path / "cases.json"
    cases_file.write_text(json.dumps(cases))
    result = subprocess.run([sys.executable, os.path.join(ROOT, "tests", "sweep_driver.py"),
                             tool, str(cases_file)], capture_output=True, text=True,
                            cwd=str(tmp_path), timeout=600)
    assert result.returncode == 0, result.stderr
    outcomes = json.loads(result.stdout.strip().splitlines()[-1])
    numeric = numeric_options(TOOLS[tool])
    problems = []
    for argv, (status, stderr) in zip(cases, outcomes):
        errors = [line for line in stderr.splitlines() if line.startswith("error: ")]
        argparse_error = stderr.startswith("usage: ")
        if status == "traceback" or "Traceback" in stderr:
            problems.append((argv, stderr[-600:]))
        elif status not in (0, 2) or (status == 2 and not argparse_error and len(errors) != 1):
            problems.append((argv, status, stderr[-600:]))
        elif (status == 0 and swept(argv)[1] == "-1" and swept(argv)[0] in numeric
              and swept(argv)[0] not in NEGATIVE_ALLOWED):
            problems.append((argv, "a negative value was accepted"))
    assert not problems, "\n".join(map(str, problems))
    # the sweep did reach the tools: some calls ran to the end
    assert any(status == 0 for status, _ in outcomes)
