import matplotlib.pyplot as plt

from lgrin_edge.train.plots import curves_figure, plot_curves


def _rows(epochs: int, scale: float) -> list[dict]:
    return [
        {"epoch": e, "train_ce": scale / e, "val_loss": 2 * scale / e, "val_acc": e / epochs, "lr": 0.01}
        for e in range(1, epochs + 1)
    ]


def _legend_texts(legend) -> list[str]:
    return [t.get_text() for t in legend.get_texts()]


def test_curves_name_their_line_styles_and_fits(tmp_path):
    """Solid and dashed are named in the panels' legends, each fit's colour in the figure's, however many
    fits there are (eleven: ten folds and the final model)."""
    histories = {f"fold {k}": _rows(5, k) for k in range(1, 11)} | {"final": _rows(5, 1)}
    fig, bottom = curves_figure(histories, "t")
    left, right, _rate = fig.axes
    assert _legend_texts(left.get_legend()) == ["training (mean over the epoch's steps)", "validation"]
    assert [ln.get_linestyle() for ln in left.get_legend().get_lines()] == ["-", "--"]
    assert left.get_ylabel() == "cross-entropy per graph (log scale)"
    assert _legend_texts(right.get_legend()) == ["validation accuracy", "learning rate (right axis)"]
    (names,) = fig.legends
    assert _legend_texts(names) == [*histories]
    colours = [ln.get_color() for ln in names.get_lines()]
    assert len(set(colours)) == len(histories) and 0 < bottom < 0.3
    plt.close(fig)
    plot_curves(histories, tmp_path / "curves.png", "t")
    assert (tmp_path / "curves.png").stat().st_size > 1000


def test_one_fit_needs_no_legend_of_fits():
    fig, bottom = curves_figure({"fold 1": _rows(3, 1)}, "t")
    assert not fig.legends and bottom == 0.0
    plt.close(fig)
