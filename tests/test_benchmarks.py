"""The benchmark scripts' own parsing (the scripts themselves need PyTorch and an idle
machine, so they are run by hand, not here)."""
import os
import sys

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                                "benchmarks"))
from profile_step import summarize_onednn_log  # noqa: E402

LOG = """dnnl_verbose,info,oneDNN v2.4.4
dnnl_verbose,exec,cpu,convolution,jit:avx512_common,forward_training,src_f32::blocked:aBcd16b:f0 wei_f32::blocked:ABcd16b16a:f0,,alg:convolution_direct,mb64_ic3oc64,100.0
TIMED STEPS
dnnl_verbose,exec,cpu,convolution,jit:avx512_common,forward_training,src_f32::blocked:aBcd16b:f0 wei_f32::blocked:ABcd16b16a:f0,,alg:convolution_direct,mb64_ic3oc64,4.0
dnnl_verbose,exec,cpu,reorder,jit:uni,undef,src_f32::blocked:abcd:f0 dst_f32::blocked:ABcd16b16a:f0,,,64x3x7x7,0.5
dnnl_verbose,exec,cpu,reorder,jit:blk,undef,src_f32::blocked:aBcd16b:f0 dst_f32::blocked:abcd:f0,,,64x128x2x2,1.5
dnnl_verbose,exec,cpu,reorder,jit:blk,undef,src_f32:0:blocked:aBcd16b:f0 dst_f32::blocked:abcd:f0,,,64x128x2x2,2.5
dnnl_verbose,exec,cpu,convolution,jit:avx512_common,forward_training,src_f32::blocked:aBcd16b:f0 wei_f32::blocked:ABcd16b16a:f0,,alg:convolution_direct,mb64_ic3oc64,6.0
"""


def test_onednn_log_counts_only_the_timed_steps_and_splits_reorders():
    figures = summarize_onednn_log(LOG, steps=2)
    assert figures["convolution forward_training (jit)"] == {"ms": 5.0, "calls": 1}
    assert figures["layout reorders of weights and weight gradients"]["ms"] == 0.25
    assert figures["layout reorders of activations and gradients"]["ms"] == pytest.approx(2.0)
    assert len(figures) == 3
