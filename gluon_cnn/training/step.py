"""The pieces of a training step that the trainer and the benchmark share: the network
built and compiled for training, the optimizer, one step, and the evaluation pass."""
import mxnet as mx
from mxnet import autograd, gluon
from mxnet.contrib import amp

from .._env import prefer_heap_reuse
from ..models import get_model, with_aux_outputs
from .devices import amp_dtype
from .optimizers import registered_name


def start_amp(contexts):
    """Switch the process to mixed precision for ``contexts``; returns the low precision.
    Call it before the network is built: AMP rewrites MXNet's operator functions, for good."""
    precision = amp_dtype(contexts)
    amp.init(target_dtype=precision)
    return precision


def build_for_training(name, classes, in_channels, image_size, initializer, contexts,
                       hybridize=True, normalize="none"):
    """(net, train_net): the zoo network ``name`` initialized on ``contexts``, and its view
    with the auxiliary heads, both run once (deferred shapes settled) and compiled."""
    net = get_model(name, classes=classes, in_channels=in_channels, normalize=normalize,
                    image_size=image_size)
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


# Parameters that weight decay leaves alone with --no-bias-decay: biases and batch norm's
# scale and shift (gluon-cv's and timm's "no bias decay")
NO_DECAY_SUFFIXES = ("_bias", "_gamma", "_beta")


def exclude_from_weight_decay(net):
    """Weight decay off for biases and batch-norm parameters; returns how many were."""
    excluded = [param for name, param in net.collect_params().items()
                if name.endswith(NO_DECAY_SUFFIXES)]
    for param in excluded:
        param.wd_mult = 0.0
    return len(excluded)


def make_trainer(net, optimizer, optimizer_params, kvstore="device", use_amp=False,
                 update_locally=False):
    """gluon's Trainer over ``net``'s parameters. AMP checks the gradients for overflow, and
    gradient clipping rescales them, in the worker's own update, so with ``use_amp`` or
    ``update_locally`` the updates stay off the KVStore."""
    local = use_amp or update_locally
    trainer = gluon.Trainer(net.collect_params(), registered_name(optimizer), optimizer_params,
                            kvstore=kvstore, update_on_kvstore=False if local else None)
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


def clip_gradients(trainer, contexts, max_norm, batch_size):
    """Scale each device's gradients so that their global L2 norm is at most ``max_norm``,
    measured on the gradient the update applies (the sum over the batch, divided by it)."""
    trainer.allreduce_grads()
    params = [param for param in trainer._params if param.grad_req != "null"]
    for ctx in contexts:
        # the devices hold the same summed gradients after allreduce; each clips its copy
        gluon.utils.clip_global_norm([param.grad(ctx) for param in params],
                                     max_norm * batch_size, check_isfinite=False)


def train_step(train_net, trainer, loss_fn, data, label, contexts, aux_weight, workers=1,
               amp_scaling=False, step_batch=None, targets=None, clip_grad_norm=0.0):
    """One optimization step; returns (mean main loss, labels, main outputs) of the batch.

    The loss compares the outputs with ``targets`` when given (probabilities: label
    smoothing, mixup, cutmix), else with the labels; the accuracy reads the labels.
    ``clip_grad_norm`` clips the gradients' global norm before the update (the trainer must
    then update locally, ``make_trainer(update_locally=True)``).

    With several workers the parameter server sums their gradients, so the step is
    normalized by the global batch (batch x workers): the same update as one process
    training on the whole global batch. With ``amp_scaling`` the losses are multiplied by
    AMP's dynamic loss scale before the backward pass, and the trainer undoes it (and skips
    a step whose gradients overflowed)."""
    datas = gluon.utils.split_and_load(data, contexts, even_split=False)
    labels = gluon.utils.split_and_load(label, contexts, even_split=False)
    goals = (labels if targets is None
             else gluon.utils.split_and_load(targets, contexts, even_split=False))
    main_losses, outputs, losses = [], [], []
    with autograd.record():
        for x, y in zip(datas, goals):
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
    normalizer = (step_batch or data.shape[0]) * workers
    if clip_grad_norm:
        clip_gradients(trainer, contexts, clip_grad_norm, normalizer)
        trainer.update(normalizer)
    else:
        trainer.step(normalizer)
    batch_loss = sum(m.sum().asscalar() for m in main_losses) / data.shape[0]
    return batch_loss, labels, outputs


# Evaluation batches hold up to this many input pixels (256 images at 96 px), and up to
# 1024 images: larger batches than training's run inference faster.
EVAL_PIXELS, EVAL_MAX_BATCH = 256 * 96 * 96, 1024


def eval_batch_size(batch_size, image_size):
    return max(batch_size, min(EVAL_MAX_BATCH, EVAL_PIXELS // (image_size * image_size)))


def _mirrored_logits(net, x):
    return 0.5 * (as_float32(net(x)) + as_float32(net(x.flip(axis=3))))


def predict_scores(net, x, tta="none"):
    """Class scores of ``net`` for the batch ``x``: its outputs; with ``tta="flip"`` the
    mean of the softmax of the image and of its mirror image; with "flip-translate" the
    airbench paper's six views, logits weighted as it weights them: half on the image and its
    mirror, a quarter each on the two one-pixel diagonal shifts (of the reflected image) and
    their mirrors."""
    if tta == "none":
        return as_float32(net(x))
    if tta == "flip-translate":
        size = x.shape[2]
        padded = mx.nd.pad(x, mode="reflect", pad_width=(0, 0, 0, 0, 1, 1, 1, 1))
        shifted = [padded[:, :, offset:offset + size, offset:offset + size]
                   for offset in (0, 2)]
        return (0.5 * _mirrored_logits(net, x)
                + 0.25 * sum(_mirrored_logits(net, view) for view in shifted))
    views = (x, x.flip(axis=3))
    return sum(as_float32(net(view)).softmax(axis=1) for view in views) / len(views)


def evaluate(net, iterator, contexts, tta="none"):
    """Top-1 accuracy of ``net`` (inference mode) over ``iterator``, with test-time
    augmentation ``tta``. The correct counts stay on the devices until the end, so the
    engine runs the batches without waiting for each."""
    correct = [mx.nd.zeros((1,), ctx=ctx) for ctx in contexts]
    total = 0
    for data, label in iterator:
        datas = gluon.utils.split_and_load(data, contexts, even_split=False)
        labels = gluon.utils.split_and_load(label, contexts, even_split=False)
        for count, x, y in zip(correct, datas, labels):
            count += (predict_scores(net, x, tta).argmax(axis=1) == y).sum()
        total += label.shape[0]
    return sum(count.asscalar() for count in correct) / total
