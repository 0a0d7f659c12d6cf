"""Importing torchvision's and timm's weights: every importable network gives torch's outputs.

Each reference network is built by torchvision (or timm) with random weights and random batch
norm statistics, imported, and compared with torch's output on the same batch (normalized the
ImageNet way, which the import puts inside the graph). One network of each family and block
kind (``ROUND_TRIP``) goes the whole way: saved as .safetensors and as
.pth (read to the same tensors), written as our export and run from it with no model code.
Reading files and exporting do not depend on the network, and for the deeper VGGs and
ResNets each of those steps moves another 0.2 to 0.6 GB, so their state dicts go to the
import in memory, as the readers return them.
"""
import json
import os

import mxnet as mx
import numpy as np
import pytest
import torch
from safetensors.torch import save_file

from gluon_cnn import deploy, torch_weights
from gluon_cnn.errors import UserError
from gluon_cnn.models import list_models
from torch_models import import_timm, import_torchvision, with_random_statistics

# zoo network: (library, its name, the smallest input the comparison can use). AlexNet's and
# VGG's FC layers take the features of a 224-px image only (torchvision pools any other size
# to that shape; ours does not); the ResNets pool globally and run at 64 px.
REFERENCES = {
    "alexnet_owt": ("torchvision", "alexnet", 224),
    "vgg11": ("torchvision", "vgg11", 224), "vgg11_bn": ("torchvision", "vgg11_bn", 224),
    "vgg13": ("torchvision", "vgg13", 224), "vgg13_bn": ("torchvision", "vgg13_bn", 224),
    "vgg16": ("torchvision", "vgg16", 224), "vgg16_bn": ("torchvision", "vgg16_bn", 224),
    "vgg19": ("torchvision", "vgg19", 224), "vgg19_bn": ("torchvision", "vgg19_bn", 224),
    "resnet18": ("torchvision", "resnet18", 64), "resnet34": ("torchvision", "resnet34", 64),
    "resnet50_v1_5": ("torchvision", "resnet50", 64),
    "resnet101_v1_5": ("torchvision", "resnet101", 64),
    "resnet152_v1_5": ("torchvision", "resnet152", 64),
}
ROUND_TRIP = {"alexnet_owt", "vgg11", "vgg11_bn", "resnet18", "resnet50_v1_5"}
# timm names its VGG head differently (FC layers as 7x7 and 1x1 convolutions)
TIMM_REFERENCES = {"vgg11_bn": ("timm", "vgg11_bn", 224), "resnet50_v1_5": ("timm", "resnet50", 64)}
MEAN = np.array(torch_weights.IMAGENET_MEAN, dtype=np.float32).reshape(1, 3, 1, 1)
STD = np.array(torch_weights.IMAGENET_STD, dtype=np.float32).reshape(1, 3, 1, 1)


def reference_model(library, name, classes=1000):
    torch.manual_seed(0)
    if library == "timm":
        model = import_timm().create_model(name, pretrained=False, num_classes=classes)
    else:
        model = getattr(import_torchvision().models, name)(num_classes=classes)
    return with_random_statistics(model)


def save_both_ways(model, folder):
    state = {name: tensor.contiguous() for name, tensor in model.state_dict().items()}
    safetensors_file = os.path.join(folder, "weights.safetensors")
    save_file(state, safetensors_file)
    pth_file = os.path.join(folder, "weights.pth")
    torch.save(model.state_dict(), pth_file)
    return safetensors_file, pth_file


def check_import_matches(net_name, library, name, size, folder, round_trip=True):
    model = reference_model(library, name)
    batch = np.random.RandomState(1).rand(2, 3, size, size).astype(np.float32)
    with torch.no_grad():
        expected = model(torch.from_numpy((batch - MEAN) / STD)).numpy()
    if round_trip:
        safetensors_file, pth_file = save_both_ways(model, folder)
        # the .pth path reads exactly the tensors the .safetensors path does
        from_pth = torch_weights.read_state_dict(pth_file)
        from_safetensors = torch_weights.read_state_dict(safetensors_file)
        assert sorted(from_pth) == sorted(from_safetensors)
        assert all(np.array_equal(from_pth[key], array)
                   for key, array in from_safetensors.items())
        prefix = os.path.join(folder, net_name)
        torch_weights.import_weights(net_name, safetensors_file, prefix, image_size=size)
        predictor, _ = deploy.load_predictor(prefix)
        got = predictor(batch)
    else:  # the state dict as the readers return it, without the file
        state = {key: tensor.numpy() for key, tensor in model.state_dict().items()}
        net, _ = torch_weights.build_imported(net_name, state, image_size=size)
        got = net(mx.nd.array(batch)).asnumpy()
    assert got.shape == expected.shape == (2, 1000)
    assert np.abs(got - expected).max() <= 1e-4 * np.abs(expected).max()


def test_every_importable_network_has_a_reference():
    assert set(REFERENCES) == set(torch_weights.IMPORTABLE)
    for name in list_models():  # every other network says why it cannot be imported
        if name not in torch_weights.IMPORTABLE:
            with pytest.raises(UserError, match="cannot take torchvision's or timm's weights"):
                torch_weights.check_importable(name)


@pytest.mark.parametrize("net_name", sorted(REFERENCES))
def test_torchvision_weights_import_exactly(net_name, tmp_path):
    check_import_matches(net_name, *REFERENCES[net_name], str(tmp_path),
                         round_trip=net_name in ROUND_TRIP)


@pytest.mark.parametrize("net_name", sorted(TIMM_REFERENCES))
def test_timm_weights_import_exactly(net_name, tmp_path):
    check_import_matches(net_name, *TIMM_REFERENCES[net_name], str(tmp_path),
                         round_trip=net_name in ROUND_TRIP and net_name != "vgg11_bn")


def test_the_export_carries_the_preprocessing_the_weights_expect(tmp_path):
    model = reference_model("torchvision", "resnet18", classes=3)
    weights, _ = save_both_ways(model, str(tmp_path))
    prefix = str(tmp_path / "resnet18")
    torch_weights.import_weights("resnet18", weights, prefix, class_names=["a", "b", "c"])
    recipe = deploy.read_preprocessing(prefix)
    assert recipe["image_size"] == 224 and recipe["center_crop"] == 0.875
    assert recipe["classes"] == ["a", "b", "c"] and recipe["net"] == "resnet18"
    assert recipe["imported_from"]["sha256"] == torch_weights.file_digest(weights)
    parameters = deploy.read_export_parameters(prefix)
    np.testing.assert_allclose(parameters["input_mean"].asnumpy().ravel(),
                               torch_weights.IMAGENET_MEAN, rtol=1e-6)
    np.testing.assert_allclose(parameters["input_std"].asnumpy().ravel(),
                               torch_weights.IMAGENET_STD, rtol=1e-6)


@pytest.fixture(scope="module")
def resnet18_state():
    return reference_model("torchvision", "resnet18", classes=10).state_dict()


def write(state, path):
    save_file({name: tensor.contiguous() for name, tensor in state.items()}, path)
    return path


def test_a_tensor_of_the_wrong_shape_is_named(resnet18_state, tmp_path):
    state = dict(resnet18_state)
    state["layer2.0.conv1.weight"] = torch.zeros(128, 64, 5, 5)
    path = write(state, str(tmp_path / "w.safetensors"))
    with pytest.raises(UserError, match=r"layer2\.0\.conv1\.weight does not fit resnet18: "
                                        r"layer2\.0\.conv1\.weight has shape 128x64x5x5"):
        torch_weights.import_weights("resnet18", path, str(tmp_path / "out"))


def test_a_tensor_without_a_place_or_a_missing_one_is_named(resnet18_state, tmp_path):
    extra = dict(resnet18_state, **{"layer5.0.conv1.weight": torch.zeros(1)})
    path = write(extra, str(tmp_path / "extra.safetensors"))
    with pytest.raises(UserError, match=r"resnet18 has no place for the tensor layer5\.0\."):
        torch_weights.import_weights("resnet18", path, str(tmp_path / "out"))
    missing = {name: tensor for name, tensor in resnet18_state.items()
               if name != "layer3.1.bn2.running_var"}
    path = write(missing, str(tmp_path / "missing.safetensors"))
    with pytest.raises(UserError, match=r"no tensor for resnet18's features\.3\.1\.body\.1\.1"
                                        r"\.running_var \(layer3\.1\.bn2\.running_var\)"):
        torch_weights.import_weights("resnet18", path, str(tmp_path / "out"))


def test_torchvision_resnet50_weights_are_refused_by_the_papers_resnet50():
    with pytest.raises(UserError, match="import into resnet50_v1_5"):
        torch_weights.check_importable("resnet50")


def test_unreadable_files_are_one_sentence(tmp_path):
    not_a_state_dict = str(tmp_path / "list.pth")
    torch.save([torch.zeros(2)], not_a_state_dict)
    with pytest.raises(UserError, match="holds a list, not a state dict"):
        torch_weights.read_state_dict(not_a_state_dict)
    garbage = tmp_path / "garbage.safetensors"
    garbage.write_bytes(b"\x00" * 16)
    with pytest.raises(UserError, match="cannot read .* as safetensors"):
        torch_weights.read_state_dict(str(garbage))
    with pytest.raises(UserError, match="weights files end in .safetensors"):
        torch_weights.read_state_dict(__file__)


def test_a_pth_file_without_torch_says_how_to_read_it(monkeypatch, tmp_path):
    path = tmp_path / "w.pth"
    path.write_bytes(b"not read")
    monkeypatch.setitem(__import__("sys").modules, "torch", None)  # import torch fails
    with pytest.raises(UserError, match="needs torch to read; install torch, or save the "
                                        "weights as .safetensors"):
        torch_weights.read_state_dict(str(path))


def test_the_command_imports_and_predict_names_the_classes(run_tool, resnet18_state, tmp_path):
    weights = write(resnet18_state, str(tmp_path / "w.safetensors"))
    names = tmp_path / "names.txt"
    names.write_text("\n".join("kind%d" % index for index in range(10)) + "\n")
    result = run_tool("import_weights.py", weights, "--net", "resnet18", "--out",
                      str(tmp_path / "imported") + "/", "--class-names", str(names))
    assert result.returncode == 0, result.stderr
    prefix = str(tmp_path / "imported" / "resnet18")
    assert json.load(open(prefix + "-preprocess.json"))["classes"][3] == "kind3"
    image = tmp_path / "photo.png"
    import cv2
    cv2.imwrite(str(image), np.random.RandomState(0).randint(0, 255, (300, 400, 3), np.uint8))
    predicted = run_tool("predict.py", "--model", prefix, str(image), "--top", "2")
    assert predicted.returncode == 0, predicted.stderr
    assert predicted.stdout.count("kind") == 2
    again = run_tool("import_weights.py", weights, "--net", "resnet18", "--out",
                     str(tmp_path / "imported") + "/")
    assert again.returncode == 2 and "already exists" in again.stderr
    refused = run_tool("import_weights.py", weights, "--net", "vgg11", "--out",
                       str(tmp_path / "vgg"))
    assert refused.returncode == 2
    assert refused.stderr.strip().count("\n") == 0 and "vgg11 has no place for the tensor" in (
        refused.stderr)
