"""The pieces of a training step that the trainer and the benchmark share: the network
built and compiled for training, the optimizer, one step, and the evaluation pass."""
import mxnet as mx
from mxnet import autograd, gluon
from mxnet.contrib import amp

from .._env import prefer_heap_reuse
from ..models import get_model, with_aux_outputs
from .devices import amp_dtype


def start_amp(contexts):
    """Switch the process to mixed precision for ``contexts``; returns the low precision.
    Call it before the network is built: AMP rewrites MXNet's operator functions, for good."""
    precision = amp_dtype(contexts)
    amp.init(target_dtype=precision)
    return precision


def build_for_training(name, classes, in_channels, image_size, initializer, contexts,
                       hybridize=True):
    """(net, train_net): the zoo network ``name`` initialized on ``contexts``, and its view
    with the auxiliary heads, both run once (deferred shapes settled) and compiled."""
    net = get_model(name, classes=classes, in_channels=in_channels)
    input_shape = (1, net.in_channels, image_size, image_size)
    net.check_input_shape(input_shape, training=True)
    net.initialize(initializer, ctx=contexts)
    train_net = with_aux_outputs(net)
    with autograd.predict_mode():  # finish deferred initialization, auxiliary heads included
        train_net(mx.nd.zeros(input_shape, ctx=contexts[0]))
    compile_for_training(net, train_net, hybridize)
    return net, train_net


def compile_for_training(net, train_net, hybridize):
    """Static graphs with static memory for ``net`` and its training view, or, imperative,
    large blocks kept on the heap for the activations allocated anew at every step."""
    if hybridize:
        train_net.hybridize(static_alloc=True, static_shape=True)
        net.hybridize(static_alloc=True, static_shape=True)
    else:
        prefer_heap_reuse()


def make_trainer(net, optimizer, optimizer_params, kvstore="device", use_amp=False):
    """gluon's Trainer over ``net``'s parameters. AMP checks the gradients for overflow in
    the worker's own update, so with ``use_amp`` the updates stay off the KVStore."""
    trainer = gluon.Trainer(net.collect_params(), optimizer, optimizer_params,
                            kvstore=kvstore, update_on_kvstore=False if use_amp else None)
    if use_amp:
        amp.init_trainer(trainer)
    return trainer


def step_seed(seed, epoch, batch):
    """The seed of MXNet's generator for one step: a function of the position alone."""
    return (seed * 1000003 + epoch * 100003 + batch) % (2 ** 31)


def as_float32(array):
    """Outputs of a mixed-precision network as float32 (metrics read them with numpy,
    which has no bfloat16); free when they already are."""
    return array.astype("float32", copy=False)


def train_step(train_net, trainer, loss_fn, data, label, contexts, aux_weight, workers=1,
               amp_scaling=False, step_batch=None):
    """One optimization step; returns (mean main loss, labels, main outputs) of the batch.

    With several workers the parameter server sums their gradients, so the step is
    normalized by the global batch (batch x workers): the same update as one process
    training on the whole global batch. With ``amp_scaling`` the losses are multiplied by
    AMP's dynamic loss scale before the backward pass, and the trainer undoes it (and skips
    a step whose gradients overflowed)."""
    datas = gluon.utils.split_and_load(data, contexts, even_split=False)
    labels = gluon.utils.split_and_load(label, contexts, even_split=False)
    main_losses, outputs, losses = [], [], []
    with autograd.record():
        for x, y in zip(datas, labels):
            out = train_net(x)
            heads = out if isinstance(out, (list, tuple)) else [out]
            main = loss_fn(heads[0], y)
            total = main
            for aux in heads[1:]:
                total = total + aux_weight * loss_fn(aux, y)
            losses.append(total)
            main_losses.append(as_float32(main))
            outputs.append(as_float32(heads[0]))
        if amp_scaling:  # the scaling is part of the recorded graph
            with amp.scale_loss(losses, trainer) as scaled:
                autograd.backward(scaled)
    if not amp_scaling:
        autograd.backward(losses)
    trainer.step((step_batch or data.shape[0]) * workers)
    batch_loss = sum(m.sum().asscalar() for m in main_losses) / data.shape[0]
    return batch_loss, labels, outputs


# Evaluation batches hold up to this many input pixels (256 images at 96 px), and up to
# 1024 images: larger batches than training's run inference faster.
EVAL_PIXELS, EVAL_MAX_BATCH = 256 * 96 * 96, 1024


def eval_batch_size(batch_size, image_size):
    return max(batch_size, min(EVAL_MAX_BATCH, EVAL_PIXELS // (image_size * image_size)))


def evaluate(net, iterator, contexts):
    """Top-1 accuracy of ``net`` (inference mode) over ``iterator``. The correct counts stay
    on the devices until the end, so the engine runs the batches without waiting for each."""
    correct = [mx.nd.zeros((1,), ctx=ctx) for ctx in contexts]
    total = 0
    for data, label in iterator:
        datas = gluon.utils.split_and_load(data, contexts, even_split=False)
        labels = gluon.utils.split_and_load(label, contexts, even_split=False)
        for count, x, y in zip(correct, datas, labels):
            count += (as_float32(net(x)).argmax(axis=1) == y).sum()
        total += label.shape[0]
    return sum(count.asscalar() for count in correct) / total
