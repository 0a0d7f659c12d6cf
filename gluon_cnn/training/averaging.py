"""Weight averaging: an exponential moving average of the network's weights (its batch-norm
statistics included), as timm's ModelEma and the airbench method keep one.

After every step each average moves towards the trained value,
``avg = d avg + (1 - d) w``, with the decay ``d = min(decay, (1 + t) / (10 + t))`` at step t
so that the first steps are not dominated by the random initialization (TensorFlow's
ExponentialMovingAverage with num_updates). Evaluation, checkpoints and the export use the
averaged weights (``averaged_weights``); checkpoints also keep the average itself, so that
``--resume`` continues it exactly.
"""
import contextlib

import mxnet as mx


class WeightAverage:
    def __init__(self, net, decay):
        self.decay = decay
        # structural names ("features.0.0.weight"), as save_parameters writes them: the same
        # in every process, unlike the parameters' prefixed names
        self.params = {name: param for name, param in net._collect_params_with_prefix().items()
                       if param._data is not None}
        self.reset()

    def reset(self):
        """Start the average afresh from the network's current weights."""
        self.average = {name: param.data().copy() for name, param in self.params.items()}
        self.updates = 0

    def current_decay(self):
        return min(self.decay, (1.0 + self.updates) / (10.0 + self.updates))

    def update(self):
        """Move every average one step towards the network's current weights (asynchronous
        MXNet operations: no wait for the step)."""
        decay = self.current_decay()
        for name, param in self.params.items():
            average = self.average[name]
            average *= decay
            average += (1 - decay) * param.data(average.context)
        self.updates += 1

    @contextlib.contextmanager
    def averaged_weights(self):
        """The network holds the averaged weights inside the block, its own ones after."""
        trained = {name: param.data().copy() for name, param in self.params.items()}
        for name, param in self.params.items():
            param.set_data(self.average[name])
        try:
            yield
        finally:
            for name, param in self.params.items():
                param.set_data(trained[name])

    def save(self, path):
        arrays = dict(self.average)
        arrays["__updates__"] = mx.nd.array([self.updates], dtype="int64")
        mx.nd.save(path, arrays)

    def load(self, path):
        arrays = mx.nd.load(path)
        self.updates = int(arrays.pop("__updates__").asscalar())
        for name, array in arrays.items():
            self.average[name] = array.as_in_context(self.average[name].context)


def load_average_into(net, path):
    """Give ``net`` the averaged weights a checkpoint's ``average.params`` holds."""
    params = net._collect_params_with_prefix()
    for name, array in mx.nd.load(path).items():
        if name != "__updates__":
            params[name].set_data(array)


class Lookahead:
    """The airbench paper's weight averaging (``--lookahead K``): every K steps a slow copy of
    the weights (batch norm statistics included) moves towards the trained ones,
    ``slow = d slow + (1 - d) w``, and the trained weights are reset to it; the decay
    ``d = 0.95^K (t / T)^3`` at step t of T grows from 0 (no averaging early on) to 0.95^K.
    After the last step the weights are the slow copy. Training, evaluation and the export
    all use the net's own weights, which this changes in place."""

    def __init__(self, net, every, total_steps, base=0.95):
        self.every, self.total_steps, self.base = every, total_steps, base
        self.params = {name: param for name, param in net._collect_params_with_prefix().items()
                       if param._data is not None}
        self.slow = {name: param.data().copy() for name, param in self.params.items()}

    def decay(self, step):
        return self.base ** self.every * (step / self.total_steps) ** 3

    def after_step(self, step):
        """Steps are counted from 1; ``step`` is the one just taken."""
        if step % self.every == 0:
            decay = self.decay(step)
            for name, param in self.params.items():
                slow = self.slow[name]
                slow *= decay
                slow += (1 - decay) * param.data(slow.context)
        if step % self.every == 0 or step == self.total_steps:
            for name, param in self.params.items():
                param.set_data(self.slow[name])

    def save(self, path):
        mx.nd.save(path, dict(self.slow))

    def load(self, path):
        for name, array in mx.nd.load(path).items():
            self.slow[name] = array.as_in_context(self.slow[name].context)
