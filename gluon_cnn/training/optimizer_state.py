"""Save and restore a gluon Trainer's optimizer state without pickle.

``Trainer.save_states`` pickles the optimizer, and ``load_states`` unpickles whatever file it
is given, so a crafted checkpoint could run code. Here the per-parameter states (momentum,
Adam's moments, ...) go into an MXNet ``.params`` file (``mx.nd.save``: arrays only) and
the update counters into JSON. MXNet has no public API for the states, so this reads the
Trainer's updaters, the same objects ``save_states`` serializes.
"""
import json

import mxnet as mx


def _updaters(trainer):
    """The updaters holding the states; empty when they live on parameter servers
    (dist_async), where MXNet offers no way to read them."""
    if not trainer._kv_initialized:
        trainer._init_kvstore()
    if trainer._update_on_kvstore:
        updater = getattr(trainer._kvstore, "_updater", None)
        return [updater] if updater is not None else []
    return trainer._updaters


def _flatten(state, key, arrays):
    """Put the NDArrays of one parameter's state into ``arrays``; return its structure."""
    if state is None:
        return None
    if isinstance(state, mx.nd.NDArray):
        arrays[key] = state
        return "array"
    if isinstance(state, (list, tuple)):
        return [_flatten(part, "%s/%d" % (key, i), arrays) for i, part in enumerate(state)]
    raise TypeError("optimizer state of type %s cannot be saved" % type(state).__name__)


def _unflatten(structure, key, arrays):
    if structure is None:
        return None
    if structure == "array":
        return arrays[key]
    return tuple(_unflatten(part, "%s/%d" % (key, i), arrays) for i, part in enumerate(structure))


def save(trainer, arrays_path, json_path):
    updaters = _updaters(trainer)
    states = updaters[0].states if updaters else {}
    optimizer = trainer._optimizer
    arrays, structure = {}, {}
    for index, state in states.items():
        structure[str(index)] = _flatten(state, str(index), arrays)
    mx.nd.save(arrays_path, arrays)
    counts = {str(device): {str(k): v for k, v in table.items()}
              for device, table in optimizer._all_index_update_counts.items()}
    with open(json_path, "w") as handle:
        json.dump({"num_update": optimizer.num_update, "index_update_counts": counts,
                   "structure": structure}, handle)


def load(trainer, arrays_path, json_path):
    with open(json_path) as handle:
        meta = json.load(handle)
    arrays = mx.nd.load(arrays_path) if meta["structure"] else {}
    if not isinstance(arrays, dict):
        arrays = {}
    optimizer = trainer._optimizer
    for updater in _updaters(trainer):
        for key, structure in meta["structure"].items():
            index = int(key) if key.isdigit() else key
            updater.states[index] = _unflatten(structure, key, arrays)
            updater.states_synced[index] = False  # moved to the weight's device on first use
    optimizer.num_update = meta["num_update"]
    optimizer._all_index_update_counts = {
        int(device): {(int(k) if k.isdigit() else k): v for k, v in table.items()}
        for device, table in meta["index_update_counts"].items()} or {0: {}}
    optimizer._index_update_count = optimizer._all_index_update_counts.setdefault(0, {})
