"""What a network computes on one image: its first convolution's filters, and each
top-level block's output (the blocks the debug mode prints) as a grid of channels."""
import math
import os

import mxnet as mx
from mxnet.gluon import nn

from . import deploy
from .debug import display_name
from .errors import UserError
from .plot import new_figure, save_figure


def load_export_parameters(net, prefix, epoch=None):
    """Copy an export's parameters (``PREFIX-NNNN.params``) into ``net``, matched by their
    names below the network's own prefix; one sentence when they do not fit."""
    by_name = deploy.read_export_parameters(prefix, epoch)
    used = set()
    for name, param in net.collect_params().items():
        local = name[len(net.prefix):]
        if local not in by_name:
            if "aux" in local:  # training-only heads are never exported
                continue
            raise UserError("the export %s does not match network %s: it has no parameter "
                            "%s." % (prefix, net.model_name, local))
        value = by_name[local]
        if param.shape and tuple(param.shape) != tuple(value.shape):
            raise UserError("the export %s does not match network %s: %s is %s in the export "
                            "and %s in the network." % (prefix, net.model_name, local,
                                                       value.shape, param.shape))
        param.set_data(value)
        used.add(local)
    extra = sorted(set(by_name) - used)
    if extra:
        raise UserError("the export %s does not match network %s: the export has %d "
                        "parameters the network lacks, e.g. %s." % (
                            prefix, net.model_name, len(extra), extra[0]))


def first_convolution(net):
    """The first Conv2D in the network's forward order (its stem)."""
    pending = [net]
    while pending:
        block = pending.pop(0)
        if isinstance(block, nn.Conv2D):
            return block
        pending = list(block._children.values()) + pending
    raise UserError("%s has no 2-D convolution." % net.model_name)


def stage_outputs(net, batch):
    """[(name, output NDArray)] of each top-level block for ``batch``, imperatively."""
    outputs, x = [], batch
    for stage in net.stages():
        x = stage(x)
        outputs.append((display_name(net, stage, ""), x))
    return outputs


def _draw_grid(pictures, path, title, show, scale=1.2):
    """One panel per picture in a near-square grid, ``show(axis, picture)`` drawing each.
    Returns the number of panels."""
    columns = math.ceil(math.sqrt(len(pictures)))
    rows = math.ceil(len(pictures) / columns)
    figure, axes = new_figure(rows, columns, figsize=(scale * columns, scale * rows + 0.6),
                              squeeze=False)
    for axis in axes.flat:
        axis.axis("off")
    for axis, picture in zip(axes.flat, pictures):
        show(axis, picture)
    figure.suptitle(title, fontsize=9)
    save_figure(figure, path)
    return len(pictures)


def _show_filter(axis, kernel):
    """RGB for 3 input channels, else the mean over them, scaled to the filter's range."""
    picture = kernel.transpose(1, 2, 0) if kernel.shape[0] == 3 else kernel.mean(axis=0)
    low, high = picture.min(), picture.max()
    axis.imshow((picture - low) / (high - low + 1e-12),
                cmap=None if picture.ndim == 3 else "gray", interpolation="nearest")


def draw_filters(weight, path, title):
    """Each filter as a small image. Returns the number of panels."""
    weight = weight.asnumpy() if hasattr(weight, "asnumpy") else weight
    return _draw_grid(list(weight), path, title, _show_filter, scale=1.1)


def draw_stage(name, index, output, path, max_channels=64, class_names=None):
    """One block's output for one image: a grid of up to ``max_channels`` channel maps, or
    a bar chart of the scores when the block outputs a vector (the classifier). Returns the
    number of panels."""
    values = output[0].asnumpy()
    title = "blk%d %s: output %s" % (index, name, tuple(output.shape))
    if values.ndim == 3:
        shown = list(values[:max_channels])
        if len(shown) < len(values):
            title += ", first %d of %d channels" % (len(shown), len(values))
        return _draw_grid(shown, path, title, lambda axis, channel: axis.imshow(
            channel, cmap="viridis", interpolation="nearest"))
    figure, axis = new_figure(figsize=(max(4, 0.5 * values.size), 3))
    labels = class_names if class_names and len(class_names) == values.size else \
        [str(i) for i in range(values.size)]
    axis.bar(range(values.size), values.ravel())
    axis.set_xticks(range(values.size), labels=labels, rotation=45, ha="right", fontsize=7)
    axis.set(title=title, ylabel="score (logit)")
    save_figure(figure, path)
    return 1


def visualize(net, batch, out_dir, max_channels=64, class_names=None):
    """Write ``filters.png`` and one ``blkN-NAME.png`` per top-level block into ``out_dir``;
    returns [(file, panels)]."""
    os.makedirs(out_dir, exist_ok=True)
    convolution = first_convolution(net)
    weight = convolution.weight.data()
    written = [("filters.png", draw_filters(
        weight, os.path.join(out_dir, "filters.png"),
        "%s: first convolution %s, %d filters %s" % (
            net.model_name, display_name(net, convolution, ""), weight.shape[0],
            "x".join(map(str, weight.shape[1:])))))]
    for index, (name, output) in enumerate(stage_outputs(net, batch), 1):
        file_name = "blk%d-%s.png" % (index, name.replace("/", "_"))
        written.append((file_name, draw_stage(name, index, output,
                                              os.path.join(out_dir, file_name),
                                              max_channels, class_names)))
    return written
