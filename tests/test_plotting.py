"""Pictures of attention: what is drawn matches the weights, on any Axes."""

import sys

import matplotlib
import numpy as np
import pytest

from sk_attention import AttentionPooling, AttentionSeq2Seq, plot_attention
from sk_attention.plotting import plot_pooling_attention

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


@pytest.fixture(scope="module")
def seq2seq():
    X = ["ab c", "ba", "aab", "c ba"] * 8
    return AttentionSeq2Seq(
        hidden_size=8,
        embedding_dim=4,
        max_epochs=1,
        validation_fraction=None,
        early_stopping=False,
        random_state=0,
    ).fit(X, X)


@pytest.fixture(scope="module")
def sequences():
    rng = np.random.RandomState(0)
    X = rng.normal(size=(30, 6, 2))
    return X, (X[:, :, 0].max(axis=1) > 1).astype(int)


def test_alignment_matrix_is_the_attention_of_the_prediction(seq2seq):
    weights, source, output = seq2seq.attention_weights(["ab c"], return_tokens=True)[0]
    _, ax = plt.subplots()
    returned = plot_attention(seq2seq, "ab c", ax=ax)
    assert returned is ax
    np.testing.assert_array_equal(ax.images[0].get_array(), weights)
    assert [t.get_text() for t in ax.get_xticklabels()] == ["a", "b", "␣", "c"]
    assert len(ax.get_yticklabels()) == len(output)
    assert source == ["a", "b", " ", "c"]


def test_new_figure_when_no_axes_given(seq2seq):
    ax = plot_attention(seq2seq, ["a", "b"])  # a token list is one sample
    assert isinstance(ax, matplotlib.axes.Axes)
    assert ax.images[0].get_array().shape[1] == 2


@pytest.mark.parametrize("num_heads", [1, 3])
def test_pooling_bars_are_the_step_weights(sequences, num_heads):
    X, y = sequences
    pool = AttentionPooling(
        hidden_layer_sizes=(4,), num_heads=num_heads, max_epochs=1, random_state=0
    ).fit(X, y)
    weights = pool.attention_weights(X[:1])[0]  # (num_heads, n_steps)
    _, ax = plt.subplots()
    assert plot_pooling_attention(pool, X[0], ax=ax) is ax
    heights = np.array([bar.get_height() for bar in ax.patches])
    np.testing.assert_allclose(heights.reshape(num_heads, 6), weights)
    # The reference line sits at the weight mean pooling would give.
    assert ax.lines[0].get_ydata()[0] == pytest.approx(1 / 6)
    assert (ax.get_legend() is not None) == (num_heads > 1)


def test_plot_attention_draws_pooling_models_as_bars(sequences):
    X, _ = sequences
    pool = AttentionPooling().fit(X)
    ax = plot_attention(pool, X[1])
    assert len(ax.patches) == 6
    assert ax.get_ylabel() == "attention weight"


def test_univariate_sample_and_step_labels():
    X = np.random.RandomState(1).normal(size=(10, 4))  # univariate sequences
    pool = AttentionPooling().fit(X)
    ax = plot_pooling_attention(pool, X[0], step_labels=["w", "x", "y", "z"])
    assert [t.get_text() for t in ax.get_xticklabels()] == ["w", "x", "y", "z"]
    with pytest.raises(ValueError, match="step_labels must hold one label per"):
        plot_pooling_attention(pool, X[0], step_labels=["w"])


def test_bad_arguments_are_named(sequences, seq2seq):
    X, _ = sequences
    pool = AttentionPooling().fit(X)
    with pytest.raises(ValueError, match="x must be one sample"):
        plot_pooling_attention(pool, X[:2])
    with pytest.raises(TypeError, match="model must be a fitted sk_attention"):
        plot_attention(object(), "ab")
    with pytest.raises(TypeError, match="model must be a fitted attention pool"):
        plot_pooling_attention(seq2seq, "ab")
    with pytest.raises(TypeError, match="model must be a fitted"):
        plot_attention(AttentionPooling(), X[0])  # not fitted


def test_clear_error_without_matplotlib(monkeypatch, sequences, seq2seq):
    X, _ = sequences
    pool = AttentionPooling().fit(X)
    # A None entry makes `import matplotlib.pyplot` raise ImportError.
    monkeypatch.setitem(sys.modules, "matplotlib.pyplot", None)
    with pytest.raises(ImportError, match=r"plot_attention needs matplotlib.*\[plot\]"):
        plot_attention(seq2seq, "ab")
    with pytest.raises(ImportError, match="plot_pooling_attention needs matplotlib"):
        plot_pooling_attention(pool, X[0])


def test_a_text_is_drawn_as_its_tokens_shaded_by_weight():
    from sk_attention import AttentionPoolingClassifier

    texts = ["not good", "good", "not bad", "bad"] * 5
    clf = AttentionPoolingClassifier(encoder="gru", num_heads=2, max_epochs=1,
                                     random_state=0).fit(texts, [0, 1] * 10)
    ax = plot_pooling_attention(clf, "good not bad")
    np.testing.assert_allclose(
        ax.images[0].get_array(), clf.attention_weights(["good not bad"])[0]
    )
    assert [t.get_text() for t in ax.texts] == ["good", "not", "bad"] * 2


def test_a_series_is_drawn_with_its_weight_per_step():
    from sk_attention import AttentionPoolingClassifier

    rng = np.random.RandomState(0)
    panel = rng.normal(size=(20, 2, 15))  # aeon's layout
    clf = AttentionPoolingClassifier(encoder="conv", input_layout="channels_first",
                                     max_epochs=1, random_state=0)
    clf.fit(panel, [0, 1] * 10)
    ax = plot_pooling_attention(clf, panel[0])
    assert len(ax.lines) == 2  # one line per channel
    np.testing.assert_allclose(ax.lines[1].get_ydata(), panel[0, 1])
    shade = [other for other in ax.figure.axes if other is not ax][0]
    assert len(shade.collections) == 1  # the weights, one head
