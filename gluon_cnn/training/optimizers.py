"""Nesterov momentum done right on MXNet 1.9.1.

MXNet's own ``nag`` optimizer calls the fused ``nag_mom_update`` operator with the weight as
its own output, and that operator then computes the new momentum's weight-decay term from
the weight it has just updated: with weight decay, the momentum drifts from Nesterov's
(``tests/test_switches.py`` shows it on one update), and training runs with ``nag`` and
weight decay differed from one identical run to the next (measured on 2 AMD EPYC Zen 3
cores: the same 3-epoch ResNet-20 run twice, parameters apart by up to 23 after 3 epochs;
without weight decay, or with plain momentum SGD, identical). ``--optimizer nag`` therefore
runs this class: the same update rule, MXNet's convention, in plain NDArray operations on
the old weight:

    g = rescale_grad * grad (clipped if asked) + wd * weight
    momentum_new = momentum * momentum_old - lr * g
    weight_new = weight + momentum * momentum_new - lr * g
"""
import mxnet as mx


@mx.optimizer.register
class NesterovSGD(mx.optimizer.Optimizer):
    """SGD with Nesterov momentum (``--optimizer nag``), registered as "nesterovsgd"."""

    def __init__(self, momentum=0.0, **kwargs):
        super().__init__(**kwargs)
        self.momentum = momentum

    def create_state(self, index, weight):
        if self.momentum == 0.0:
            return None
        return mx.nd.zeros(weight.shape, weight.context, dtype=weight.dtype)

    def update(self, index, weight, grad, state):
        self._update_count(index)
        param = self.param_dict.get(index)
        if param is not None and param.lr_mult == 0:
            return  # frozen (airbench's whitening bias after its epochs): momentum included
        lr, wd = self._get_lr(index), self._get_wd(index)
        step = grad * self.rescale_grad
        if self.clip_gradient:
            step = mx.nd.clip(step, -self.clip_gradient, self.clip_gradient)
        step = step + wd * weight
        if state is None:
            weight[:] = weight - lr * step
            return
        state[:] = self.momentum * state - lr * step
        weight[:] = weight + self.momentum * state - lr * step


# what --optimizer names, as MXNet's registry knows them
OPTIMIZER_CLASSES = {"nag": "nesterovsgd"}


def registered_name(optimizer):
    return OPTIMIZER_CLASSES.get(optimizer, optimizer)
