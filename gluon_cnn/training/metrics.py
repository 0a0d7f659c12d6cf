"""The seed's smoothed loss and the run's CSV logs."""
import csv
import os


class SmoothedLoss:
    """Exponential moving average of per-batch losses, bias-corrected as in seed 002:
    ``m = 0.9 m + 0.1 loss``, reported as ``m / (1 - 0.9 ** iterations)``."""

    def __init__(self, constant=0.9, value=0.0, iterations=0):
        self.constant, self.value, self.iterations = constant, value, iterations

    def update(self, loss):
        self.iterations += 1
        self.value = self.constant * self.value + (1 - self.constant) * loss
        return self.get()

    def get(self):
        if not self.iterations:
            return float("nan")
        return self.value / (1 - self.constant ** self.iterations)

    def state(self):
        return {"constant": self.constant, "value": self.value, "iterations": self.iterations}


# train_acc is seed 002's measure (a full pass after the epoch, unless --no-eval-train);
# running_train_acc the accuracy of the epoch's own training batches, as they were trained.
EPOCH_COLUMNS = ["epoch", "smoothed_loss", "train_acc", "running_train_acc", "test_acc", "lr",
                 "seconds", "samples_per_sec"]
ITERATION_COLUMNS = ["iteration", "epoch", "smoothed_loss", "lr"]


class CsvLog:
    """Append rows to a CSV file, writing the header when the file is new."""

    def __init__(self, path, columns):
        self.path, self.columns = path, columns
        if not os.path.exists(path):
            with open(path, "w", newline="") as handle:
                csv.writer(handle).writerow(columns)

    def append(self, **row):
        with open(self.path, "a", newline="") as handle:
            csv.writer(handle).writerow([_format(row[name]) for name in self.columns])

    def truncate_after(self, column, last):
        """Drop rows whose ``column`` exceeds ``last`` (rows logged after the checkpoint a
        resumed run starts from)."""
        rows = read_csv(self.path)
        with open(self.path, "w", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(self.columns)
            for row in rows:
                if float(row[column]) <= last:
                    writer.writerow([row[name] for name in self.columns])


def _format(value):
    return "%.6g" % value if isinstance(value, float) else value


def read_csv(path):
    with open(path, newline="") as handle:
        return list(csv.DictReader(handle))
