"""scripts/bench.py reports the figures it promises (no timing is asserted: a benchmark is
not a test)."""
import json

import pytest

from conftest import run_script

TINY = ["--net", "lenet5", "--image-size", "32", "--batch-size", "8", "--steps", "2",
        "--repeats", "2", "--json"]


@pytest.mark.parametrize("extra, precision", [([], "float32"), (["--amp"], "bfloat16"),
                                              (["--no-hybridize", "--mode", "train"], "float32")])
def test_bench_reports_speed_flops_and_memory(extra, precision):
    result = run_script("bench.py", *(TINY + extra))
    assert result.returncode == 0, result.stderr
    figures = json.loads(result.stdout)
    assert figures["precision"] == precision and figures["device"] == "cpu(0)"
    modes = ["train"] if "--mode" in extra else ["train", "infer"]
    for mode in modes:
        assert figures[mode]["images_per_sec"] > 0 and figures[mode]["gflops"] > 0
        assert figures[mode]["ms_per_step"] == pytest.approx(
            8 / figures[mode]["images_per_sec"] * 1000)
    assert figures["peak_rss_mib"] > 50
    assert figures["hybridize"] == ("--no-hybridize" not in extra)


def test_bench_bad_input_is_one_clear_line():
    for args, message in [(["--ctx", "cpu:0,cpu:1"], "measures one device"),
                          (["--net", "lenet"], "unknown"),
                          (["--gpus", "0"], "CPU build")]:
        result = run_script("bench.py", *args)
        assert result.returncode == 2 and message in result.stderr, result.stderr
        assert "Traceback" not in result.stderr
