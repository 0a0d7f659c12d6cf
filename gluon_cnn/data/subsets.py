"""A part of a data set: some of its classes, and a number of training images per class
(``train.py --classes``, ``--train-per-class``), as fine-tuning experiments take them."""
import numpy as np

from ..errors import UserError


def class_subset(splits, names):
    """Only the images of the classes ``names``, relabelled 0.. in the order given."""
    unknown = [name for name in names if name not in splits.classes]
    if unknown:
        raise UserError("--classes: the data set has no class %s; its classes are %s."
                        % (unknown[0], ", ".join(splits.classes)))
    if len(set(names)) != len(names):
        raise UserError("--classes names a class twice: %s." % ", ".join(names))
    new_label = np.full(len(splits.classes), -1, dtype=np.int64)
    for index, name in enumerate(names):
        new_label[splits.classes.index(name)] = index

    def keep(split):
        images, labels = split
        relabelled = new_label[np.asarray(labels, dtype=np.int64)]
        chosen = relabelled >= 0
        return images[chosen], relabelled[chosen].astype(np.asarray(labels).dtype)
    return splits._replace(train=keep(splits.train), test=keep(splits.test), classes=list(names))


def first_per_class(split, count, classes):
    """The first ``count`` images of each class, in the split's order; refuses a class with
    fewer, naming it from ``classes``."""
    images, labels = split
    labels = np.asarray(labels)
    chosen = []
    for label in np.unique(labels):
        indices = np.flatnonzero(labels == label)
        if len(indices) < count:
            raise UserError("--train-per-class %d: class %s has only %d training images."
                            % (count, classes[label], len(indices)))
        chosen.extend(indices[:count])
    chosen = np.sort(np.array(chosen, dtype=np.int64))
    return images[chosen], labels[chosen]
