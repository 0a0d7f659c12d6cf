"""A run's products beside its logs: the export of its network (at the end of the run, or
later from any of its checkpoints) and its learning curves."""
import mxnet as mx

from .. import deploy
from ..errors import UserError
from ..models import get_model
from ..paths import RunFolder
from ..plot import plot_runs
from ..runs import run_resize
from . import checkpoint


def finish_run(folder, net, config, class_names, ctx):
    """Export the trained ``net`` as ``<out>/<net>`` (epoch number: the last epoch's) and
    draw the run's curves. Returns (symbol file, params file, curves file)."""
    symbol_file, params_file = deploy.export(
        net, folder.export(config.net).prefix,
        (1, net.in_channels, config.image_size, config.image_size),
        epoch=config.epochs_started() - 1, ctx=ctx, class_names=class_names, resize=config.resize)
    return symbol_file, params_file, plot_runs([folder.root], folder.curves)


def export_checkpoint(run_dir, prefix=None, checkpoint_path=None):
    """Export a training run's checkpoint (default: its newest intact one) with no training."""
    folder = RunFolder(run_dir)
    if checkpoint_path is None:
        checkpoint_path, state = checkpoint.latest_valid(folder.checkpoints)
        if checkpoint_path is None:
            raise UserError("no intact checkpoint in %s." % folder.checkpoints)
    else:
        state = checkpoint.verify(checkpoint_path)
        if state is None:
            raise UserError("%s is not an intact checkpoint." % checkpoint_path)
    config = state["config"]
    net = get_model(config["net"], classes=config["classes"], in_channels=config["in_channels"],
                    normalize=config.get("normalize", "none"), image_size=config["image_size"])
    # the weights the run evaluated with: the average, when it kept one (--ema)
    checkpoint.load_weights(checkpoint_path, net, mx.cpu())
    prefix = prefix or folder.export(config["net"]).prefix
    size = config["image_size"]
    return deploy.export(net, prefix, (1, net.in_channels, size, size),
                         epoch=checkpoint.last_epoch(state), resize=run_resize(config),
                         class_names=config.get("class_names"))
