"""The curves: epochs numbered as the logs number them, one colour per run in both panels."""
from gluon_cnn import plot


def drawn_figure(monkeypatch, *args, **kwargs):
    saved = []
    monkeypatch.setattr(plot, "save_figure", lambda figure, path, dpi=100: saved.append(figure))
    plot.plot_runs(*args, **kwargs)
    return saved[0]


def test_accuracy_is_drawn_at_the_epoch_numbers_of_the_logs(finished_run, tmp_path,
                                                            monkeypatch):
    figure = drawn_figure(monkeypatch, [str(finished_run.run)], str(tmp_path / "c.png"),
                          with_reference=True)
    loss_axis, acc_axis = figure.axes
    ours = [line for line in acc_axis.lines if line.get_label().startswith("run ")]
    assert [list(line.get_xdata()) for line in ours] == [[0.0], [0.0]]  # train, test of epoch 0
    reference = [line for line in acc_axis.lines if "tutorial" in line.get_label().lower()]
    assert list(reference[0].get_xdata())[:2] == [0, 1]
    # the loss panel runs in epochs trained: epoch 0's steps end at 1
    loss = [line for line in loss_axis.lines if line.get_label() == "run"][0]
    assert 0 < max(loss.get_xdata()) <= 1
    assert len({line.get_color() for line in ours + [loss]}) == 1
