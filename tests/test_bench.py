"""scripts/bench.py reports the figures it promises (no timing is asserted: a benchmark is
not a test)."""
import json

import pytest

from conftest import CPU_RUNS_BFLOAT16, needs_bfloat16, run_script

pytestmark = pytest.mark.slow  # see pytest.ini

TINY = ["--net", "lenet5", "--image-size", "32", "--batch-size", "8", "--steps", "2",
        "--repeats", "2", "--json"]


@pytest.mark.parametrize("extra, precision", [
    ([], "float32"), pytest.param(["--amp"], "bfloat16", marks=needs_bfloat16),
    (["--no-hybridize", "--mode", "train"], "float32")])
def test_bench_reports_speed_flops_and_memory(extra, precision):
    result = run_script("bench.py", *(TINY + extra))
    assert result.returncode == 0, result.stderr
    figures = json.loads(result.stdout)
    assert figures["precision"] == precision and figures["device"] == "cpu(0)"
    modes = ["train"] if "--mode" in extra else ["train", "infer"]
    for mode in modes:
        assert figures[mode]["images_per_sec"] > 0 and figures[mode]["gflops"] > 0
    # LeNet-5's multiply-accumulates per 32x32 image, counted by hand from its layers:
    # 28*28*6*25 + 10*10*16*150 + 400*120 + 120*84 + 84*10
    assert figures["forward_gmacs_per_image"] * 1e9 == pytest.approx(416520)
    assert figures["peak_rss_mib"] > 50
    assert figures["hybridize"] == ("--no-hybridize" not in extra)


@pytest.mark.skipif(CPU_RUNS_BFLOAT16, reason="this CPU runs bfloat16")
def test_amp_is_refused_in_one_sentence_on_a_cpu_without_avx512(tmp_path):
    bench = run_script("bench.py", *(TINY + ["--amp"]))
    train = run_script("train.py", "--net", "lenet5", "--dataset", "synthetic", "--amp",
                       "--out", tmp_path / "run")
    for result in (bench, train):
        assert result.returncode == 2 and "Traceback" not in result.stderr
        assert result.stderr.startswith("error: --amp on the CPU computes in bfloat16, which "
                                        "oneDNN runs only on CPUs with AVX-512, and this one (")
    assert not (tmp_path / "run").exists()  # refused before the run folder is made


def test_bench_bad_input_is_one_clear_line():
    for args, message in [(["--ctx", "cpu:0,cpu:1"], "measures one device"),
                          (["--net", "lenet"], "unknown"),
                          (["--gpus", "0"], "CPU build")]:
        result = run_script("bench.py", *args)
        assert result.returncode == 2 and message in result.stderr, result.stderr
        assert "Traceback" not in result.stderr


CPUINFO = """processor\t: 0
model name\t: %s
cpu MHz\t\t: 2599.998
flags\t\t: fpu sse sse2 %s
"""


@pytest.mark.parametrize("model, flags, per_cycle, ghz", [
    ("Intel(R) Xeon(R) Platinum 8370C CPU @ 2.80GHz", "avx avx2 fma avx512f avx512bw", 64, 2.8),
    ("Intel(R) Xeon(R) Processor", "avx avx2 fma avx512f amx_tile", 64, 2.599998),
    ("AMD EPYC 7B13 64-Core Processor", "avx avx2 fma", 32, 2.599998),
    ("AMD EPYC 9B14 96-Core Processor", "avx avx2 fma avx512f", 32, 2.599998),
    ("Some CPU", "avx", 16, 2.599998),
])
def test_theoretical_peak_follows_the_vector_unit_and_clock(model, flags, per_cycle, ghz):
    from gluon_cnn.bench import cpu_peak_gflops
    peak, basis = cpu_peak_gflops(CPUINFO % (model, flags), cores=2)
    assert peak == pytest.approx(2 * per_cycle * ghz)
    assert ("%d FLOP/cycle" % per_cycle) in basis and "2 cores" in basis


def test_a_machine_faster_than_its_nominal_clock_raises_the_theoretical_peak():
    from gluon_cnn.bench import cpu_peak_gflops
    cpuinfo = CPUINFO % ("AMD EPYC", "fma avx2 avx512f")
    nominal, _ = cpu_peak_gflops(cpuinfo, cores=2)
    assert cpu_peak_gflops(cpuinfo, cores=2, at_least=nominal / 2)[0] == nominal
    raised, basis = cpu_peak_gflops(cpuinfo, cores=2, at_least=1.25 * nominal)
    assert raised == pytest.approx(1.25 * nominal)
    assert "run above the nominal clock" in basis


def test_bench_reports_both_peaks_and_says_when_they_are_one():
    from gluon_cnn.bench import format_result
    result = run_script("bench.py", *TINY)
    figures = json.loads(result.stdout)
    assert figures["measured_peak_gflops"] > 0 and figures["peak_gflops"] > 0
    assert "FLOP/cycle" in figures["peak_basis"]
    # the theoretical peak is never below what the machine was measured to reach
    assert figures["peak_gflops"] >= figures["measured_peak_gflops"] * (1 - 1e-9)
    figures["peak_raised_to_measured"] = True
    assert "equal by construction" in format_result(figures)
    figures["peak_raised_to_measured"] = False
    assert "equal by construction" not in format_result(figures)
