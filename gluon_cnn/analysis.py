"""Where a trained network fails: a run's export evaluated on the run's test split, with no
model code, as a confusion matrix, per-class precision and recall, the most confused pairs
and a grid of the mistakes it was surest of."""
import math
import os

import numpy as np

from . import deploy
from .csvlog import write_csv
from .data import BatchIterator
from .errors import UserError
from .paths import RunFolder, make_output_folder
from .plot import new_figure, save_figure
from .runs import read_run_config, run_dataset

OUTPUTS = ("confusion.png", "per_class.csv", "confused_pairs.csv", "mistakes.png")


def confusion_matrix(labels, predictions, classes):
    """counts[true, predicted]."""
    counts = np.zeros((classes, classes), dtype=np.int64)
    np.add.at(counts, (np.asarray(labels, int), np.asarray(predictions, int)), 1)
    return counts


def per_class_metrics(counts, names):
    """One dict per class: support, precision, recall (the class's own accuracy), F1."""
    rows = []
    for index, name in enumerate(names):
        true_positive = counts[index, index]
        support, predicted = counts[index].sum(), counts[:, index].sum()
        precision = true_positive / predicted if predicted else 0.0
        recall = true_positive / support if support else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        rows.append({"class": name, "support": int(support), "precision": float(precision),
                     "recall": float(recall), "f1": float(f1)})
    return rows


def most_confused(counts, names, top=10):
    """The ``top`` (true, predicted, count, share of the true class) off-diagonal cells."""
    pairs = [(counts[t, p], t, p) for t in range(len(names)) for p in range(len(names))
             if t != p and counts[t, p]]
    pairs.sort(key=lambda pair: (-pair[0], pair[1], pair[2]))
    return [{"true": names[t], "predicted": names[p], "count": int(count),
             "share_of_true_class": float(count / counts[t].sum())}
            for count, t, p in pairs[:top]]


def predict_split(predict, images, labels, image_size, resize, batch_size=256):
    """Softmax probabilities of an exported model for every image."""
    probabilities = []
    for data, _ in BatchIterator(images, labels, batch_size, image_size, resize=resize):
        logits = predict(data.asnumpy())
        exp = np.exp(logits - logits.max(axis=1, keepdims=True))
        probabilities.append(exp / exp.sum(axis=1, keepdims=True))
    return np.concatenate(probabilities)


def draw_confusion(counts, names, path, title):
    """Rows normalized to the true class; each cell shows its share and its count."""
    shares = counts / np.maximum(counts.sum(axis=1, keepdims=True), 1)
    size = max(6.0, 0.6 * len(names) + 2)
    figure, axis = new_figure(figsize=(size + 1.5, size))
    shown = axis.imshow(shares, cmap="Blues", vmin=0, vmax=1)
    figure.colorbar(shown, ax=axis, fraction=0.046, label="share of the true class")
    axis.set_xticks(range(len(names)), labels=names, rotation=45, ha="right")
    axis.set_yticks(range(len(names)), labels=names)
    axis.set(xlabel="predicted", ylabel="true", title=title)
    for t in range(len(names)):
        for p in range(len(names)):
            axis.text(p, t, "%.2f\n%d" % (shares[t, p], counts[t, p]), ha="center",
                      va="center", fontsize=7, color="white" if shares[t, p] > 0.5 else "black")
    save_figure(figure, path)


def draw_mistakes(images, labels, probabilities, names, path, count=25):
    """The ``count`` misclassified images the model was surest of, each titled with the true
    class, the predicted one and its probability. Returns how many were drawn."""
    predicted = probabilities.argmax(axis=1)
    wrong = np.flatnonzero(predicted != labels)
    wrong = wrong[np.argsort(-probabilities[wrong, predicted[wrong]], kind="stable")][:count]
    columns = max(1, min(5, len(wrong)))
    rows = max(1, math.ceil(len(wrong) / columns))
    figure, axes = new_figure(rows, columns, figsize=(2.2 * columns, 2.5 * rows),
                              squeeze=False)
    for axis in axes.flat:
        axis.axis("off")
    for axis, index in zip(axes.flat, wrong):
        image = images[index]
        axis.imshow(image[:, :, 0] if image.shape[2] == 1 else image,
                    cmap="gray" if image.shape[2] == 1 else None)
        axis.set_title("true: %s\npred: %s (%.2f)" % (
            names[labels[index]], names[predicted[index]],
            probabilities[index, predicted[index]]), fontsize=8)
    if not len(wrong):
        axes.flat[0].text(0.5, 0.5, "no mistakes", ha="center", va="center")
    save_figure(figure, path)
    return len(wrong)


def inspect_run(run_dir, out_dir=None, model=None, data_dir=None, max_samples=0, mistakes=25,
                overwrite=False):
    """Evaluate the run's export (or ``model``, an export prefix or .onnx file) on the run's
    test split and write OUTPUTS into ``out_dir`` (default RUN_DIR/inspect). Returns the
    figures: accuracy, the confusion counts, per-class rows, most confused pairs."""
    config = read_run_config(run_dir)
    out_dir = out_dir or RunFolder(run_dir).inspection
    existing = [name for name in OUTPUTS if os.path.exists(os.path.join(out_dir, name))]
    if existing and not overwrite:
        raise UserError("%s already holds %s; pass --overwrite to replace them or choose "
                        "another --out." % (out_dir, ", ".join(existing)))
    make_output_folder(out_dir)  # before the evaluation, not after it
    model = model or RunFolder(run_dir).export(config["net"]).prefix
    predict, prefix = deploy.load_predictor(model)
    recipe = deploy.read_preprocessing(prefix) or {}
    names = recipe.get("classes") or config.get("class_names")
    size = config["image_size"]
    resize = deploy.training_resize(recipe)
    splits = run_dataset(config, data_dir)
    images, labels = splits.test
    if max_samples:
        images, labels = images[:max_samples], labels[:max_samples]
    names = list(names or splits.classes)
    try:
        probabilities = predict_split(predict, images, labels, size, resize)
    except UserError as err:
        raise UserError("%s does not fit the run's data: %s" % (model, err)) from None
    if probabilities.shape[1] != len(names):
        raise UserError("%s predicts %d classes but the run has %d (%s)." % (
            model, probabilities.shape[1], len(names), ", ".join(names)))
    counts = confusion_matrix(labels, probabilities.argmax(axis=1), len(names))
    accuracy = float(np.trace(counts) / max(1, counts.sum()))
    per_class = per_class_metrics(counts, names)
    pairs = most_confused(counts, names)
    title = "%s: %d test images, accuracy %.4f" % (os.path.basename(os.path.normpath(run_dir)),
                                                    counts.sum(), accuracy)
    draw_confusion(counts, names, os.path.join(out_dir, "confusion.png"), title)
    write_csv(os.path.join(out_dir, "per_class.csv"), per_class)
    write_csv(os.path.join(out_dir, "confused_pairs.csv"), pairs)
    drawn = draw_mistakes(images, labels, probabilities, names,
                          os.path.join(out_dir, "mistakes.png"), mistakes)
    return {"accuracy": accuracy, "counts": counts, "per_class": per_class, "pairs": pairs,
            "mistakes_drawn": drawn, "out": out_dir, "model": model}


def format_report(result):
    lines = ["%s: accuracy %.4f on %d test images" % (result["model"], result["accuracy"],
                                                       result["counts"].sum()),
             "%-14s %8s %10s %8s %8s" % ("class", "support", "precision", "recall", "f1")]
    for row in result["per_class"]:
        lines.append("%-14s %8d %10.4f %8.4f %8.4f" % (row["class"], row["support"],
                                                       row["precision"], row["recall"],
                                                       row["f1"]))
    lines.append("most confused (true -> predicted: count, share of the true class):")
    for pair in result["pairs"]:
        lines.append("  %s -> %s: %d (%.1f%%)" % (pair["true"], pair["predicted"],
                                                  pair["count"],
                                                  100 * pair["share_of_true_class"]))
    lines.append("wrote %s" % ", ".join(os.path.join(result["out"], name) for name in OUTPUTS))
    return "\n".join(lines)
