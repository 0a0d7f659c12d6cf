"""The smoothed loss of the epoch line and the columns of the run's CSV logs."""


class SmoothedLoss:
    """Exponential moving average of per-batch losses, bias-corrected as in the Gluon tutorial:
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


# train_acc is the Gluon tutorial's measure (a full pass after the epoch, unless --no-eval-train);
# running_train_acc the accuracy of the epoch's own training batches, as they were trained;
# test_acc_tta the test accuracy with --tta (empty without).
EPOCH_COLUMNS = ["epoch", "smoothed_loss", "train_acc", "running_train_acc", "test_acc", "lr",
                 "seconds", "samples_per_sec", "test_acc_tta"]
ITERATION_COLUMNS = ["iteration", "epoch", "smoothed_loss", "lr"]
