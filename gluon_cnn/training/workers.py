"""The processes of a run: one, or the workers of a distributed job on MXNet's parameter
server (started by scripts/launch.py)."""
import hashlib
import os

import mxnet as mx

from ..errors import UserError


def create_kvstore(name):
    """(kvstore, rank, number of workers): MXNet's parameter server for dist_* names."""
    if not name.startswith("dist"):
        return name, 0, 1
    if "DMLC_ROLE" not in os.environ:
        raise UserError("--kvstore %s needs a distributed job; start it with scripts/launch.py "
                        "-n WORKERS -s SERVERS -- python scripts/train.py --kvstore %s ..."
                        % (name, name))
    kvstore = mx.kv.create(name)
    return kvstore, kvstore.rank, kvstore.num_workers


def parameters_digest(net):
    """SHA-256 of every parameter's bytes, in name order: equal digests, equal networks."""
    digest = hashlib.sha256()
    for name, param in sorted(net.collect_params().items()):
        digest.update(name.encode())
        digest.update(param.data().asnumpy().tobytes())
    return digest.hexdigest()
