"""The zoo: shapes, parameter counts, hybridized == imperative, export without model code."""
import mxnet as mx
import numpy as np
import pytest

import gluon_cnn
from gluon_cnn import debug
from gluon_cnn.models import Classifier
from conftest import ROUNDTRIP_ZOO

# Trainable parameters at the canonical input size and 1000 classes (10 for the CIFAR
# nets). Sources: the Keras CNN chapter (LeNet-5), the issue / papers (AlexNet single column computed
# from the paper's layer sizes, VGG-16, GoogLeNet Table 1, ResNet-50), torchvision's model
# documentation "num_params" (other VGG and ResNet depths; VGG-BN there keeps conv biases).
REFERENCE_PARAMS = {
    "lenet5": 61706,
    "alexnet": 62378344,
    "vgg11": 132863336, "vgg13": 133047848, "vgg16": 138357544, "vgg19": 143667240,
    "vgg11_bn": 132868840, "vgg13_bn": 133053736, "vgg16_bn": 138365992,
    "vgg19_bn": 143678248,
    "googlenet_paper": 6998552,
    "resnet18": 11689512, "resnet34": 21797672, "resnet50": 25557032,
    "resnet101": 44549160, "resnet152": 60192808,
    "alexnet_owt": 61100840, "resnet50_v1_5": 25557032, "resnet101_v1_5": 44549160,
    "resnet152_v1_5": 60192808,
}
CANONICAL_OUTPUT = {"lenet5": (1, 10), "googlenet": (1, 10), "cifar_resnet20": (1, 10),
                    "airbench94": (1, 10),
                    "cifar_resnet32": (1, 10), "cifar_resnet44": (1, 10),
                    "cifar_resnet56": (1, 10), "cifar_resnet110": (1, 10)}
# The ResNet paper's Table 6, in millions of parameters (rounded as printed there)
TABLE_6_MILLIONS = {"cifar_resnet20": 0.27, "cifar_resnet32": 0.46, "cifar_resnet44": 0.66,
                    "cifar_resnet56": 0.85, "cifar_resnet110": 1.7}


def build(name, **kwargs):
    if name in ("googlenet_paper", "googlenet_bn"):
        kwargs.setdefault("aux_classifiers", False)
    return gluon_cnn.get_model(name, **kwargs)


def test_registry_lists_every_family():
    names = gluon_cnn.list_models()
    for expected in ["lenet5", "alexnet", "vgg11", "vgg13", "vgg16", "vgg19", "vgg11_bn",
                     "vgg16_bn", "googlenet", "googlenet_paper", "googlenet_bn", "resnet18",
                     "resnet34", "resnet50", "resnet101", "resnet152", "cifar_resnet20",
                     "cifar_resnet32", "cifar_resnet44", "cifar_resnet56", "cifar_resnet110"]:
        assert expected in names


@pytest.mark.parametrize("name", gluon_cnn.list_models())
def test_canonical_shape_and_parameter_count(name):
    net = build(name)
    assert isinstance(net, Classifier) and isinstance(net, mx.gluon.HybridBlock)
    size = net.canonical_size
    report = debug.summary(net, (1, net.in_channels, size, size), printer=None)
    assert report["rows"][0].output_shape == CANONICAL_OUTPUT.get(name, (1, 1000))
    if name in REFERENCE_PARAMS:
        assert report["trainable_params"] == REFERENCE_PARAMS[name]
    if name in TABLE_6_MILLIONS:
        millions = TABLE_6_MILLIONS[name]
        digits = 1 if millions >= 1 else 2
        assert round(report["trainable_params"] / 1e6, digits) == millions


def test_cifar_resnets_keep_32_px_down_to_8_and_shortcuts_are_zero_padded():
    net = gluon_cnn.get_model("cifar_resnet20")
    net.initialize()
    x, shapes = mx.nd.zeros((2, 3, 32, 32)), []
    for stage in net.stages():
        x = stage(x)
        shapes.append(x.shape)
    assert shapes == [(2, 16, 32, 32), (2, 16, 32, 32), (2, 32, 16, 16), (2, 64, 1, 1), (2, 10)]
    from gluon_cnn.models.blocks import ZeroPaddedIdentity
    x = mx.nd.random.uniform(shape=(1, 16, 8, 8))
    out = ZeroPaddedIdentity(2)(x).asnumpy()
    assert out.shape == (1, 32, 4, 4)
    np.testing.assert_array_equal(out[:, :16], x.asnumpy()[:, :, ::2, ::2])
    assert not out[:, 16:].any()
    shortcuts = [block.shortcut for stage in list(net.features._children.values())[1:]
                 for block in stage._children.values() if hasattr(block, "shortcut")]
    assert [type(s).__name__ for s in shortcuts if s is not None] == ["ZeroPaddedIdentity"] * 2


@pytest.mark.parametrize("name", ROUNDTRIP_ZOO)
def test_hybridized_equals_imperative_and_export_roundtrip(name, tmp_path):
    net = build(name, classes=10)
    # The smallest input the network takes keeps VGG and AlexNet quick on the CPU.
    size = max(net.smallest_input_size(), 32)
    x = mx.nd.random.uniform(shape=(2, net.in_channels, size, size))
    net.initialize(mx.init.Xavier())
    imperative = net(x).asnumpy()
    net.hybridize(static_alloc=True, static_shape=True)
    hybridized = net(x).asnumpy()
    np.testing.assert_allclose(hybridized, imperative, rtol=1e-4, atol=1e-5)
    prefix = str(tmp_path / name)
    gluon_cnn.deploy.export(net, prefix, x.shape, epoch=3)
    loaded = gluon_cnn.deploy.load_exported(prefix)
    np.testing.assert_allclose(loaded(x).asnumpy(), imperative, rtol=1e-4, atol=1e-5)


def test_googlenet_paper_aux_heads_train_but_stay_out_of_inference_and_export(tmp_path):
    net = gluon_cnn.get_model("googlenet_paper", classes=10)
    net.initialize(mx.init.Xavier())
    trainer_view = gluon_cnn.with_aux_outputs(net)
    trainer_view.hybridize()
    x = mx.nd.random.uniform(shape=(2, 3, 96, 96))
    with mx.autograd.record():
        outputs = trainer_view(x)
    assert [o.shape for o in outputs] == [(2, 10)] * 3
    assert net(x).shape == (2, 10)
    symbol_file, params_file = gluon_cnn.deploy.export(net, str(tmp_path / "g"), x.shape)
    saved = mx.nd.load(params_file)
    assert saved and not any("aux" in key for key in saved)
    assert "aux" not in open(symbol_file).read()
    full = gluon_cnn.get_model("googlenet_paper")  # 1000 classes, with its auxiliary heads
    counted = debug.summary(full, (1, 3, 224, 224), printer=None)["trainable_params"]
    assert counted == REFERENCE_PARAMS["googlenet_paper"]  # the heads are not part of net(x)


def test_aux_head_follows_input_size():
    # gluoncv hard-codes a 2048-wide auxiliary input, which only fits 224 px.
    for size in (96, 224):
        net = gluon_cnn.get_model("googlenet_paper", classes=10)
        net.initialize()
        outputs = gluon_cnn.with_aux_outputs(net)(mx.nd.zeros((1, 3, size, size)))
        assert [o.shape for o in outputs] == [(1, 10)] * 3


def test_hybridized_googlenet_paper_infers_on_images_too_small_for_its_aux_heads():
    # Deferred initialization used to infer the heads' shapes too, and fail, below 79 px.
    net = gluon_cnn.get_model("googlenet_paper", classes=10)
    net.initialize()
    net.hybridize()
    smallest = net.smallest_input_size()
    assert smallest < net.smallest_input_size(training=True)
    assert net(mx.nd.zeros((2, 3, smallest, smallest))).shape == (2, 10)


def test_the_gluon_tutorials_shapes_through_debug_mode(capsys):
    net = gluon_cnn.get_model("googlenet", classes=10, debug=True)
    net.initialize(mx.init.Xavier())
    x = mx.nd.random.normal(shape=(32, 3, 96, 96))
    expected = ["(32, 64, 23, 23)", "(32, 192, 11, 11)", "(32, 480, 5, 5)",
                "(32, 832, 2, 2)", "(32, 1024, 1, 1)", "(32, 10)"]
    for hybridize in (False, True):
        if hybridize:
            net.hybridize()
        net(x)
        lines = capsys.readouterr().out.strip().splitlines()
        assert len(lines) == 6
        for index, (line, shape) in enumerate(zip(lines, expected)):
            assert line.startswith("blk%d output: %s" % (index + 1, shape))


def test_summary_works_before_init_and_when_hybridized():
    net = gluon_cnn.get_model("lenet5")
    before = debug.summary(net, (1, 1, 32, 32), printer=None)
    net.initialize()
    net.hybridize()
    net(mx.nd.zeros((1, 1, 32, 32)))
    after = debug.summary(net, (1, 1, 32, 32), printer=None)
    assert before["total_params"] == after["total_params"] == 61706
    assert before["text"].splitlines()[-1] == "Total params: 61,706"
    # conv1 28*28*6*25 + conv2 10*10*16*150 + 400*120 + 120*84 + 84*10
    assert before["macs"] == 117600 + 240000 + 48000 + 10080 + 840


def test_receptive_field_of_vgg16_matches_the_keras_vgg_notebook():
    rows = debug.receptive_field(gluon_cnn.get_model("vgg16"), (1, 3, 224, 224))
    pools = [row.receptive_field for row in rows if row.op == "Pooling"]
    assert pools == [6, 16, 44, 100, 212]


def test_receptive_field_takes_the_widest_branch():
    rows = debug.receptive_field(gluon_cnn.get_model("googlenet"), (1, 3, 96, 96))
    fields = [row.receptive_field for row in rows]
    assert fields == sorted(fields) or max(fields) == rows[-1].receptive_field
    assert rows[0].receptive_field == 7


def test_unknown_model_lists_close_matches():
    with pytest.raises(gluon_cnn.UnknownModelError, match="did you mean googlenet"):
        gluon_cnn.get_model("googlnet")


@pytest.mark.parametrize("name", ROUNDTRIP_ZOO)
def test_too_small_input_names_network_and_smallest_size(name):
    net = build(name, classes=10)
    net.initialize()
    smallest = net.smallest_input_size()
    net(mx.nd.zeros((1, net.in_channels, smallest, smallest)))  # the smallest size works
    if smallest == 1:  # ResNet's padded strides and global pool take any size
        return
    message = "%s needs inputs of at least %dx%d pixels" % (name, smallest, smallest)
    with pytest.raises(gluon_cnn.InputShapeError, match=message):
        net(mx.nd.zeros((1, net.in_channels, smallest - 1, smallest - 1)))


def test_wrong_channel_count_is_a_clear_error():
    net = gluon_cnn.get_model("resnet18", classes=10)
    net.initialize()
    net.hybridize()
    with pytest.raises(gluon_cnn.InputShapeError, match="3-channel images but got 1 channels"):
        net(mx.nd.zeros((1, 1, 64, 64)))


def test_input_size_other_than_initialized_one_is_a_clear_error():
    net = gluon_cnn.get_model("vgg11", classes=10)
    net.initialize()
    net(mx.nd.zeros((1, 3, 32, 32)))
    with pytest.raises(gluon_cnn.InputShapeError, match="initialized for another input size"):
        net(mx.nd.zeros((1, 3, 64, 64)))


def test_global_pool_networks_take_any_size():
    net = gluon_cnn.get_model("resnet18", classes=10)
    net.initialize()
    for size in (32, 96, 150):
        assert net(mx.nd.zeros((1, 3, size, size))).shape == (1, 10)


def test_every_name_has_its_own_def_and_a_duplicate_is_refused():
    import inspect
    from gluon_cnn.models import registry
    for name in gluon_cnn.list_models():
        builder = registry._BUILDERS[name]
        assert builder.__name__ == name and "def %s(" % name in inspect.getsource(builder)
    with pytest.raises(ValueError, match="a model named vgg16 is already registered"):
        def vgg16():
            return None
        registry.register_model(vgg16)
