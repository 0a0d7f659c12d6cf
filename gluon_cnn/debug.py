"""Seeing inside a network: per-block output shapes, a summary table, receptive fields.

One mechanism serves every HybridBlock, imperative or hybridized, initialized or not: the
network is called once on a Symbol with forward hooks on its blocks (a symbolic call always
runs the Python ``hybrid_forward``, so hooks fire even on a hybridized network, where they
would not inside the cached graph), and one symbolic shape inference gives every block's
output shape and every parameter's shape.
"""
import collections
import contextlib
import io
import json

import mxnet as mx
from mxnet.gluon import nn


def infer_shape_quietly(symbol, **shapes):
    """``symbol.infer_shape(**shapes)`` without the arguments MXNet prints to stdout before
    it raises for shapes that do not fit."""
    with contextlib.redirect_stdout(io.StringIO()):
        return symbol.infer_shape(**shapes)


LayerRow = collections.namedtuple(
    "LayerRow", "block depth name kind output_shape params trainable macs")


def _walk(block, depth=0, path=""):
    """(block, depth, path) for ``block`` and everything inside it; path as in ``net.features.0``."""
    yield block, depth, path
    for key, child in block._children.items():
        yield from _walk(child, depth + 1, (path + "." if path else "") + key)


def display_name(net, block, path):
    """``stem1`` for a block named ``googlenet0_stem1_``; the attribute path where the block
    has no name of its own (a container created with an empty prefix)."""
    name = block.name
    if name.startswith(net.prefix) and name != net.prefix:
        return name[len(net.prefix):].rstrip("_")
    return path or name.rstrip("_")


def _first_symbol(out):
    while isinstance(out, (list, tuple)):
        out = out[0]
    return out


def trace(net, input_shape):
    """Rows for every block that runs in ``net(x)`` for an input of ``input_shape``, in call
    order (a parent before its children), and the network's output Symbol."""
    calls, outputs, handles = [], {}, []

    def on_enter(block, _args):
        calls.append(block)

    def on_exit(block, _args, out):
        outputs[id(block)] = _first_symbol(out)

    places = {}
    for block, depth, path in _walk(net):
        places.setdefault(id(block), (depth, display_name(net, block, path)))
        handles.append(block.register_forward_pre_hook(on_enter))
        handles.append(block.register_forward_hook(on_exit))
    try:
        result = net(mx.sym.var("data"))
    finally:
        for handle in handles:
            handle.detach()
    seen, blocks = set(), []
    for block in calls:
        if id(block) not in seen:
            seen.add(id(block))
            blocks.append(block)
    group = mx.sym.Group([outputs[id(block)] for block in blocks])
    arg_shapes, out_shapes, aux_shapes = infer_shape_quietly(group, data=tuple(input_shape))
    param_shapes = dict(zip(group.list_arguments() + group.list_auxiliary_states(),
                            arg_shapes + aux_shapes))
    rows = []
    for block, out_shape in zip(blocks, out_shapes):
        params = trainable = 0
        for param in block.collect_params().values():
            if param.name not in param_shapes:  # not used by net(x), e.g. auxiliary heads
                continue
            size = _size(param_shapes[param.name])
            params += size
            trainable += size if param.grad_req != "null" else 0
        depth, name = places[id(block)]
        rows.append(LayerRow(block, depth, name, type(block).__name__,
                             tuple(out_shape), params, trainable,
                             _layer_macs(block, out_shape, param_shapes)))
    return rows, _first_symbol(result)


def _size(shape):
    total = 1
    for dim in shape or (0,):
        total *= dim
    return total


def _layer_macs(block, out_shape, param_shapes):
    """Multiply-accumulates per sample of a convolution or dense layer (others: 0)."""
    if isinstance(block, (nn.Conv2D, nn.Dense)):
        weight = param_shapes[block.weight.name]
        return _size(out_shape[1:]) * _size(weight[1:])
    return 0


def stage_shapes(net, input_shape):
    """[(name, output shape)] of each top-level block (``net.stages()`` or direct children)."""
    stages = net.stages() if hasattr(net, "stages") else list(net._children.values())
    wanted = {id(block) for block in stages}
    rows, _ = trace(net, input_shape)
    return [(row.name, row.output_shape) for row in rows if id(row.block) in wanted]


def stage_line(index, name, shape):
    """The debug mode's line for the ``index``-th (from 0) top-level block, as the Gluon
    tutorial printed it, with the block's name."""
    return "blk%d output: %s  (%s)" % (index + 1, shape, name)


def print_stage_shapes_on_forward(net, printer=print):
    """Debug mode: after each forward pass print ``blkN output: shape`` for every stage.

    Shapes come from symbolic inference for the batch's shape, so this also works when the
    network is hybridized (its graph runs in C++ where nothing can print). The table is
    computed once per input shape.
    """
    cache = {}

    def after_forward(block, args, _out):
        if not args or not isinstance(args[0], mx.nd.NDArray):
            return
        shape = tuple(args[0].shape)
        if shape not in cache:
            cache[shape] = stage_shapes(block, shape)
        for index, (name, out_shape) in enumerate(cache[shape]):
            printer(stage_line(index, name, out_shape))

    return net.register_forward_hook(after_forward)


def summary(net, input_shape, max_depth=None, printer=print):
    """Print and return a Keras-style table: every block and layer, output shape, parameters,
    multiply-accumulates per sample, with totals. Works before initialization and on
    hybridized networks. Returns a dict with ``rows``, ``total_params``,
    ``trainable_params``, ``non_trainable_params``, ``macs`` and ``text``."""
    rows, _ = trace(net, input_shape)
    top = rows[0]
    layers = [row for row in rows if row.macs]
    # A parent's MACs are those of the layers inside it.
    macs = {id(row.block): sum(layer.macs for layer in layers if _is_inside(layer.block, row.block))
            for row in rows}
    header = ("Layer (type)", "Output Shape", "Param #", "MACs")
    table = []
    for row in rows[1:]:
        if max_depth is not None and row.depth > max_depth:
            continue
        label = "%s%s (%s)" % ("  " * (row.depth - 1), row.name, row.kind)
        table.append((label, str(row.output_shape), "{:,}".format(row.params),
                      "{:,}".format(macs[id(row.block)])))
    widths = [max(len(text) for text in column) for column in zip(header, *table)]
    line = "  ".join("%-*s" % (width, "") for width in widths).replace(" ", "-")
    fmt = lambda cells: "  ".join("%-*s" % (w, c) for w, c in zip(widths, cells)).rstrip()
    total_macs = macs[id(top.block)]
    lines = ['Model: "%s"  input %s' % (getattr(net, "model_name", top.name), tuple(input_shape)),
             line, fmt(header), line.replace("-", "=")]
    lines += [fmt(cells) for cells in table]
    lines += [line.replace("-", "="),
              "Output shape: %s" % (top.output_shape,),
              "MACs per sample: {:,} ({:.3f} G)".format(total_macs, total_macs / 1e9),
              "Trainable params: {:,}".format(top.trainable),
              "Non-trainable params: {:,}".format(top.params - top.trainable),
              "Total params: {:,}".format(top.params)]
    text = "\n".join(lines)
    if printer:
        printer(text)
    return {"rows": rows, "total_params": top.params, "trainable_params": top.trainable,
            "non_trainable_params": top.params - top.trainable, "macs": total_macs,
            "text": text}


def _is_inside(block, ancestor):
    return any(candidate is block for candidate, _, _ in _walk(ancestor))


RFRow = collections.namedtuple("RFRow", "name op kernel stride receptive_field jump")


def receptive_field(net, input_shape):
    """Receptive field of every convolution and pooling layer, through every branch.

    Walks the symbolic graph: a layer with kernel k and stride s turns the receptive field r
    and jump j (input pixels between neighbouring outputs) of its input into r + (k-1)*j
    and j*s; where branches meet, the largest field wins. A global pool sees the whole
    input. VGG-16 gives 212 px after its last pool (the Keras VGG notebook's hand-made table).
    """
    _, symbol = trace(net, input_shape)
    graph = json.loads(symbol.tojson())
    nodes = graph["nodes"]
    field = [(1, 1)] * len(nodes)
    rows = []
    for index, node in enumerate(nodes):
        inputs = [field[source] for source, _, _ in node.get("inputs", [])
                  if nodes[source]["op"] != "null" or nodes[source]["name"] == "data"]
        r, j = max(inputs) if inputs else (1, 1)
        attrs = node.get("attrs", {})
        if node["op"] in ("Convolution", "Pooling"):
            if attrs.get("global_pool") == "True":
                r, kernel, stride = max(input_shape[2:]), "global", 1
            else:
                kernel = _ints(attrs["kernel"])[0]
                dilate = _ints(attrs.get("dilate", "(1,1)"))[0]
                stride = _ints(attrs.get("stride", "(1,1)"))[0]
                r, j = r + (kernel - 1) * dilate * j, j * stride
            rows.append(RFRow(node["name"], node["op"], kernel, stride, r, j))
        field[index] = (r, j)
    return rows


def _ints(text):
    return [int(part) for part in text.strip("()[] ").split(",") if part.strip()]


def format_receptive_field(rows):
    lines = ["%-40s %-12s %-8s %-7s %s" % ("Layer", "Op", "Kernel", "Stride", "Receptive field")]
    lines += ["%-40s %-12s %-8s %-7s %d" % (row.name, row.op, row.kernel, row.stride,
                                           row.receptive_field) for row in rows]
    return "\n".join(lines)
