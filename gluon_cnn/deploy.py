"""Export a network as ``<prefix>-symbol.json`` + ``<prefix>-NNNN.params`` and load it back
with no model code (``gluon.SymbolBlock.imports``), MXNet's deployment format."""
import os
import warnings

import mxnet as mx
from mxnet import gluon

from .errors import UserError


def export(net, prefix, input_shape, epoch=0, ctx=None):
    """Hybridize ``net``, trace it on a zero batch of ``input_shape`` and export it.

    Training-only parts (GoogLeNet's auxiliary heads) are not in ``net(x)``'s graph, so
    they are not in the export. Returns (symbol file, params file).
    """
    ctx = ctx or mx.cpu()
    net.hybridize()
    net(mx.nd.zeros(input_shape, ctx=ctx))
    net.export(prefix, epoch=epoch)
    return "%s-symbol.json" % prefix, "%s-%04d.params" % (prefix, epoch)


def params_file(prefix, epoch=None):
    """The params file of an export: the given epoch, or the newest one on disk."""
    if epoch is not None:
        return "%s-%04d.params" % (prefix, epoch)
    folder, stem = os.path.split(prefix)
    found = sorted(name for name in os.listdir(folder or ".")
                   if name.startswith(stem + "-") and name.endswith(".params")
                   and name[len(stem) + 1:-len(".params")].isdigit())
    if not found:
        raise UserError("no %s-NNNN.params file next to %s-symbol.json." % (stem, prefix))
    return os.path.join(folder, found[-1])


def load_exported(prefix, epoch=None, ctx=None):
    """Load ``<prefix>-symbol.json`` and its params as a SymbolBlock (no model code)."""
    symbol_file = "%s-symbol.json" % prefix
    if not os.path.isfile(symbol_file):
        raise UserError("no exported model at %s (expected %s, written by scripts/train.py "
                        "or scripts/export.py)." % (prefix, symbol_file))
    params = params_file(prefix, epoch)
    if not os.path.isfile(params):
        raise UserError("missing parameters file %s for the export %s." % (params, symbol_file))
    with warnings.catch_warnings():
        # SymbolBlock cannot know the dtype of "data" before a batch arrives; harmless.
        warnings.filterwarnings("ignore", message="(?s)Cannot decide type")
        try:
            block = gluon.SymbolBlock.imports(symbol_file, ["data"], params, ctx=ctx or mx.cpu())
        except (mx.base.MXNetError, AssertionError, ValueError) as err:
            raise UserError("cannot load the export %s: %s" % (
                prefix, str(err).strip().splitlines()[0])) from None
    return block
