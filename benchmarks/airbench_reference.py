#!/usr/bin/env python
"""gluon_cnn's airbench94 against the paper's own code, step by step, on the same weights.

Given a clone of KellerJordan/cifar10-airbench, this loads its ``legacy/airbench94.py``
(the uncompiled file the paper calls equivalent to its timed one) as it is, with PyTorch's
``.cuda()`` and ``.half()`` made no-ops so that it runs in float32 on the CPU, builds its
network and ours, copies its initial weights into ours (with random whitening filters and
batch-norm shifts, so that every parameter matters), and compares on random batches:
- the training-mode logits;
- each optimizer step: their ``torch.optim.SGD`` with the parameter groups, learning rate
  and weight decay their ``main`` derives from ``hyp``, on the summed label-smoothed loss,
  against our trainer with the ``airbench94`` recipe's values on the mean loss; the loss and
  the largest relative difference of any parameter or batch-norm statistic after the step;
- their lookahead (``LookaheadState``) against ours every 5 steps, with their decay schedule;
- the six-view test-time augmentation (their ``infer`` at ``tta_level`` 2 against
  ``predict_scores(..., "flip-translate")``), before the steps;
- beside ours, a control: their own network with every weight moved by a relative 1e-7.

    pip install -e '.[test]'     # torch, as the import tests use it
    python benchmarks/airbench_reference.py --airbench-repo ~/src/cifar10-airbench

On random images with random labels at the paper's learning rates, float32 rounding alone
carries two runs apart quickly (the control shows how fast); what this checks is that ours
stays as close to theirs as the control does. The data pipeline, which the script does not run, is compared in
docs/speedrun.md.
"""
import argparse
import copy
import importlib.util
import os
import sys

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
sys.path.insert(0, os.path.join(ROOT, "tests"))


def load_reference(repo):
    """The paper's legacy/airbench94.py as a module, for the CPU in float32."""
    import torch
    from torch_models import import_torchvision  # its model file imports torchvision
    path = os.path.join(repo, "legacy", "airbench94.py")
    if not os.path.isfile(path):
        raise SystemExit("error: %s not found; --airbench-repo takes a clone of "
                         "KellerJordan/cifar10-airbench." % path)
    import_torchvision()
    torch.nn.Module.cuda = lambda module, *args, **kwargs: module
    torch.nn.Module.half = lambda module: module
    spec = importlib.util.spec_from_file_location("airbench94_reference", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def paired_parameters(reference_net, net):
    """(their state-dict name, our Parameter) in order; the shapes must agree."""
    theirs = [(name, value) for name, value in reference_net.state_dict().items()
              if not name.endswith("num_batches_tracked")]
    ours = list(net.collect_params().values())
    if len(theirs) != len(ours) or any(tuple(value.shape) != param.shape
                                       for (_, value), param in zip(theirs, ours)):
        raise SystemExit("error: the two networks' parameters do not pair up by position.")
    return [(name, param) for (name, _), param in zip(theirs, ours)]


def largest_difference(reference_net, pairs):
    """The largest difference of any parameter, relative to its largest magnitude."""
    state = reference_net.state_dict()
    worst = (0.0, "")
    for name, param in pairs:
        theirs = state[name].numpy()
        difference = np.abs(theirs - param.data().asnumpy()).max() / (np.abs(theirs).max()
                                                                        or 1.0)
        worst = max(worst, (float(difference), name))
    return worst


class ControlParameter:
    """A torch tensor read as largest_difference reads our parameters."""

    def __init__(self, tensor):
        self.tensor = tensor

    def data(self):
        return self

    def asnumpy(self):
        return self.tensor.detach().numpy()


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--airbench-repo", required=True,
                        help="a clone of KellerJordan/cifar10-airbench")
    parser.add_argument("--steps", type=int, default=10, help="optimizer steps compared")
    parser.add_argument("--batch-size", type=int, default=1024,
                        help="the recipe's conversion holds at the paper's 1024")
    args = parser.parse_args()

    reference = load_reference(args.airbench_repo)
    import torch
    import mxnet as mx
    from mxnet import gluon
    import gluon_cnn  # noqa: F401  (thread defaults)
    from gluon_cnn.models import get_model
    from gluon_cnn.recipes import load_recipe
    from gluon_cnn.training.averaging import Lookahead
    from gluon_cnn.training.step import make_trainer, predict_scores, train_step

    torch.manual_seed(0)
    rng = np.random.RandomState(0)
    theirs = reference.make_net().float()
    with torch.no_grad():  # random whitening and shifts: every parameter takes part
        theirs[0].weight.copy_(torch.tensor(rng.normal(size=(24, 3, 2, 2)), dtype=torch.float32))
        for name, value in theirs.state_dict().items():
            if "norm" in name and name.endswith("bias"):
                value.copy_(torch.tensor(rng.normal(scale=0.1, size=tuple(value.shape)),
                                         dtype=torch.float32))
    ours = get_model("airbench94", classes=10)
    ours.initialize()
    ours(mx.nd.zeros((1, 3, 32, 32)))
    pairs = paired_parameters(theirs, ours)
    for name, param in pairs:
        param.set_data(mx.nd.array(theirs.state_dict()[name].numpy()))
    ours.hybridize(static_alloc=True, static_shape=True)

    batch = args.batch_size
    images = rng.normal(size=(batch, 3, 32, 32)).astype(np.float32)
    labels = rng.randint(0, 10, size=batch)
    print("airbench94 (the paper's legacy/airbench94.py, float32 on the CPU) against "
          "gluon_cnn's, batch %d, the same initial weights" % batch)
    with torch.no_grad():
        their_logits = theirs(torch.tensor(images)).numpy()
    with mx.autograd.train_mode():
        our_logits = ours(mx.nd.array(images)).asnumpy()
    for name, param in pairs:  # those forward passes moved the BN statistics: back
        param.set_data(mx.nd.array(theirs.state_dict()[name].numpy()))
    print("training-mode logits: largest difference %.2e (largest logit %.3f)"
          % (np.abs(their_logits - our_logits).max(), np.abs(their_logits).max()))

    theirs.eval()
    test = rng.normal(size=(500, 3, 32, 32)).astype(np.float32)
    loader = type("Loader", (), {"images": torch.tensor(test), "normalize": lambda self, x: x})()
    with torch.no_grad():
        their_tta = reference.infer(theirs, loader, tta_level=2).numpy()
    our_tta = predict_scores(ours, mx.nd.array(test), "flip-translate").asnumpy()
    print("six-view TTA logits (inference mode): largest difference %.2e (largest %.3f)"
          % (np.abs(their_tta - our_tta).max(), np.abs(their_tta).max()))

    # their main(): the decoupled hyper-parameters turned into torch.optim.SGD's
    hyp = reference.hyp["opt"]
    kilostep_scale = 1024 * (1 + 1 / (1 - hyp["momentum"]))
    lr = hyp["lr"] / kilostep_scale
    wd = hyp["weight_decay"] * batch / kilostep_scale
    lr_biases = lr * hyp["bias_scaler"]
    # a control: their network with every weight moved by a relative 1e-7, trained alike;
    # how far it drifts from theirs is how far float32 rounding alone carries the runs apart
    control = copy.deepcopy(theirs)
    with torch.no_grad():
        for param in control.parameters():
            param.mul_(1 + 1e-7 * torch.randn_like(param))

    def their_optimizer(net):
        norm_biases = [p for k, p in net.named_parameters() if "norm" in k and p.requires_grad]
        others = [p for k, p in net.named_parameters() if "norm" not in k and p.requires_grad]
        return torch.optim.SGD([dict(params=norm_biases, lr=lr_biases,
                                     weight_decay=wd / lr_biases),
                                dict(params=others, lr=lr, weight_decay=wd / lr)],
                               momentum=hyp["momentum"], nesterov=True)
    their_loss = torch.nn.CrossEntropyLoss(label_smoothing=hyp["label_smoothing"],
                                           reduction="none")
    recipe = load_recipe("airbench94").settings
    trainer = make_trainer(ours, recipe["optimizer"], {
        "learning_rate": recipe["lr"], "wd": recipe["wd"], "momentum": recipe["momentum"]},
        kvstore=None)
    our_loss = gluon.loss.SoftmaxCrossEntropyLoss(sparse_label=False)
    smoothing = recipe["label_smoothing"]
    targets = np.full((batch, 10), smoothing / 10, np.float32)
    targets[np.arange(batch), labels] += 1 - smoothing
    # the lookahead over a short horizon, so that its decay is far from 0 within the steps
    horizon = 2 * args.steps
    our_average = Lookahead(ours, 5, horizon)
    alphas = 0.95 ** 5 * (torch.arange(horizon + 1) / horizon) ** 3
    runs = [(net, their_optimizer(net), reference.LookaheadState(net))
            for net in (theirs, control)]
    theirs.train()
    control.train()
    print("step: loss, theirs against ours; largest relative difference of any parameter or "
          "statistic from theirs, ours | the control's")
    for step in range(1, args.steps + 1):
        x = rng.normal(size=(batch, 3, 32, 32)).astype(np.float32)
        for net, optimizer, average in runs:
            loss = their_loss(net(torch.tensor(x)), torch.tensor(labels)).sum()
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            if step % 5 == 0:
                average.update(net, decay=alphas[step].item())
            if net is theirs:
                their_value = loss.item() / batch
        mean_loss, _, _ = train_step(ours, trainer, our_loss, mx.nd.array(x),
                                     mx.nd.array(labels), [mx.cpu()], 0.0,
                                     targets=mx.nd.array(targets))
        our_average.after_step(step)
        ours_apart = largest_difference(theirs, pairs)
        control_apart = largest_difference(theirs, [
            (name, ControlParameter(control.state_dict()[name])) for name, _ in pairs])
        print("step %2d%s: %.6f against %.6f; %.2e (%s) | %.2e (%s)" % (
            step, " + lookahead" if step % 5 == 0 else "", their_value, mean_loss,
            *ours_apart, *control_apart))

    return 0


if __name__ == "__main__":
    sys.exit(main())
