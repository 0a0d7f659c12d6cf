"""The model registry: ``@register_model`` on a builder, ``get_model(name)`` to build one.

As in timm's ``create_model``, a builder is a function named after the model that takes
``classes`` and keyword options and returns an uninitialized network.
"""
import difflib

from ..debug import print_stage_shapes_on_forward
from ..errors import UnknownModelError

_BUILDERS = {}


def register_model(builder):
    """Add ``builder`` to the zoo under its function name; a name taken twice is an error."""
    if builder.__name__ in _BUILDERS:
        raise ValueError("a model named %s is already registered (by %s.%s)" % (
            builder.__name__, _BUILDERS[builder.__name__].__module__, builder.__name__))
    _BUILDERS[builder.__name__] = builder
    return builder


def list_models():
    """Names of every model ``get_model`` can build, sorted."""
    return sorted(_BUILDERS)


def describe_model(name):
    """The first paragraph of the model's builder docstring, on one line: what the name
    stands for."""
    doc = (_BUILDERS[name].__doc__ or "").strip()
    if not doc:
        return name
    paragraph = doc.split("\n\n")[0]
    return " ".join(line.strip() for line in paragraph.splitlines()).rstrip(".")


def check_model_name(name):
    """The registry key of ``name``, or UnknownModelError listing close matches."""
    key = str(name).lower()
    if key not in _BUILDERS:
        close = difflib.get_close_matches(key, _BUILDERS, n=4, cutoff=0.5)
        hint = ("did you mean %s?" % "; ".join("%s (%s)" % (match, describe_model(match))
                                               for match in close)) if close else (
            "choose one of: %s." % ", ".join(list_models()))
        raise UnknownModelError("unknown model '%s'; %s" % (name, hint))
    return key


def get_model(name, debug=False, **kwargs):
    """Build the network ``name`` (uninitialized) with ``kwargs`` such as ``classes=10``.

    With ``debug=True`` every forward pass prints the output shape of each top-level block,
    imperative or hybridized (see ``gluon_cnn.debug``).
    """
    key = check_model_name(name)
    net = _BUILDERS[key](**kwargs)
    net.model_name = key
    if debug:
        print_stage_shapes_on_forward(net)
    return net
