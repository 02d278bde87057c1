"""Pictures of attention (matplotlib, the optional ``plot`` extra).

:func:`plot_attention` draws what any fitted estimator of this package
attends to for one input: the alignment matrix of a sequence-to-sequence
prediction, or, for the attention pooling estimators, the weights over the
steps of a sample (drawn by :func:`plot_pooling_attention`).
"""

import numpy as np

from ._pooling._base import BaseAttentionPooling
from ._seq2seq import AttentionSeq2Seq

__all__ = ["plot_attention", "plot_pooling_attention"]


def _pyplot(function):
    try:
        import matplotlib.pyplot as plt
    except ImportError:
        raise ImportError(
            f"{function} needs matplotlib, which is not installed: "
            "pip install 'sk-attention[plot]'."
        ) from None
    return plt


def _axes(ax, function):
    """``ax``, or the Axes of a new figure when it is None."""
    plt = _pyplot(function)
    if ax is None:
        _, ax = plt.subplots()
    return ax


def plot_attention(model, x, *, ax=None, cmap="viridis"):
    """Draw the attention a fitted model pays to the steps of one input.

    For :class:`~sk_attention.AttentionSeq2Seq` this is the alignment matrix
    of the prediction for ``x``: one row per predicted token (the end token
    excluded), one column per source token, each row summing to 1. For the
    attention pooling estimators it is the weight of every step of ``x``,
    drawn as bars by :func:`plot_pooling_attention`.

    Parameters
    ----------
    model : AttentionSeq2Seq, AttentionPooling, AttentionPoolingClassifier \
or AttentionPoolingRegressor
        A fitted model.
    x : str, list of str, or array-like of shape (n_steps, n_features)
        One sample: a source sequence (a string or a token list) for
        sequence-to-sequence models, one sequence of vectors for the pooling
        models.
    ax : matplotlib.axes.Axes, default=None
        Where to draw; a new figure if None.
    cmap : str, default="viridis"
        Colour map of the alignment matrix (sequence-to-sequence only).

    Returns
    -------
    ax : matplotlib.axes.Axes
        The Axes drawn on.

    Raises
    ------
    ImportError
        If matplotlib is not installed.
    TypeError
        If ``model`` is not an estimator of this package.

    See Also
    --------
    plot_pooling_attention : The picture drawn for pooling models.
    AttentionSeq2Seq.attention_weights : The numbers behind the picture.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from sk_attention import AttentionSeq2Seq, plot_attention
    >>> X = ["ab", "ba", "aab", "bba"] * 10
    >>> model = AttentionSeq2Seq(hidden_size=16, embedding_dim=8, max_epochs=2,
    ...                          validation_fraction=None, early_stopping=False,
    ...                          random_state=0).fit(X, X)
    >>> ax = plot_attention(model, "ab")
    >>> ax.get_xlabel()
    'source'
    """
    if isinstance(model, AttentionSeq2Seq) and model.__sklearn_is_fitted__():
        ax = _axes(ax, "plot_attention")
        _draw_alignment(model, x, ax, cmap)
        return ax
    if _is_pooling(model):
        return plot_pooling_attention(model, x, ax=ax)
    raise TypeError(
        f"model must be a fitted sk_attention estimator, got {type(model).__name__}."
    )


def plot_pooling_attention(model, x, *, ax=None, step_labels=None, cmap="Reds"):
    """Draw the attention weights over the steps of one sample.

    What is drawn follows what the model reads:

    - a text (a model fitted on text): its tokens in a row, each cell
      shaded by its weight, one row per head;
    - a sequence (a model with an ``encoder``): the series, one line per
      channel, with its weight per step shaded beneath on a second axis;
    - a bag or set (``encoder=None``): one bar per step and per head, with
      a dashed line at the uniform weight ``1 / n_steps`` that plain mean
      pooling would give every step: bars above it are the steps the model
      attends to.

    Parameters
    ----------
    model : AttentionPooling, AttentionPoolingClassifier or \
AttentionPoolingRegressor
        A fitted pooling model.
    x : array-like, str or list of str
        One sample, as ``fit`` read it: ``(n_steps, n_features)`` or
        ``(n_steps,)`` (``(n_channels, n_timepoints)`` with
        ``input_layout="channels_first"``), a string or a token list.
    ax : matplotlib.axes.Axes, default=None
        Where to draw; a new figure if None.
    step_labels : sequence of str, default=None
        A label per step for the x axis of numeric samples; None numbers the
        steps from 0.
    cmap : str, default="Reds"
        The colour map of the token shading.

    Returns
    -------
    ax : matplotlib.axes.Axes
        The Axes drawn on.

    Raises
    ------
    ImportError
        If matplotlib is not installed.
    TypeError
        If ``model`` is not a pooling estimator of this package.
    ValueError
        If ``x`` is not one sample, or ``step_labels`` has the wrong length.

    See Also
    --------
    plot_attention : The same picture, and the alignment matrix of
        sequence-to-sequence models.
    AttentionPooling.attention_weights : The numbers behind the picture.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import numpy as np
    >>> from sk_attention import AttentionPooling, AttentionPoolingClassifier
    >>> from sk_attention.plotting import plot_pooling_attention
    >>> X = np.random.RandomState(0).normal(size=(20, 5, 3))
    >>> pool = AttentionPooling().fit(X)
    >>> ax = plot_pooling_attention(pool, X[0], step_labels=list("abcde"))
    >>> len(ax.patches)
    5
    >>> texts = ["not good", "good", "not bad", "bad"] * 5
    >>> clf = AttentionPoolingClassifier(encoder="gru", max_epochs=2,
    ...                                  random_state=0).fit(texts, [0, 1] * 10)
    >>> ax = plot_pooling_attention(clf, "not good at all")
    >>> [text.get_text() for text in ax.texts]
    ['not', 'good', 'at', 'all']
    """
    if not _is_pooling(model):
        raise TypeError(
            f"model must be a fitted attention pooling estimator, got "
            f"{type(model).__name__}."
        )
    if model.vocabulary_ is not None:
        return _draw_tokens(model, x, _axes(ax, "plot_pooling_attention"), cmap)
    sample = np.asarray(x)
    if sample.ndim == 1:
        sample = sample[:, None]  # one univariate sequence
    if sample.ndim != 2:
        raise ValueError(
            f"x must be one sample, of shape (n_steps, n_features) or (n_steps,); "
            f"got an array of shape {np.shape(x)}."
        )
    if model.input_layout == "channels_first" and np.ndim(x) == 2:
        sample = sample.T  # (n_timepoints, n_channels)
        weights = model.attention_weights([sample.T])[0]
    else:
        weights = model.attention_weights([sample])[0]  # (num_heads, n_steps)
    num_heads, n_steps = weights.shape
    if step_labels is not None and len(step_labels) != n_steps:
        raise ValueError(
            f"step_labels must hold one label per step ({n_steps}), got "
            f"{len(step_labels)}."
        )
    ax = _axes(ax, "plot_pooling_attention")
    steps = np.arange(n_steps)
    if model.encoder is not None:
        _draw_series(sample, weights, ax)
    else:
        _draw_bars(weights, ax)
    if step_labels is not None:
        ax.set_xticks(steps, labels=[str(label) for label in step_labels])
    ax.set_xlabel("step")
    return ax


def _draw_bars(weights, ax):
    num_heads, n_steps = weights.shape
    steps = np.arange(n_steps)
    width = 0.8 / num_heads
    for head, row in enumerate(weights):
        offset = (head - (num_heads - 1) / 2) * width
        ax.bar(steps + offset, row, width=width, label=f"head {head}")
    ax.axhline(
        1.0 / n_steps,
        color="0.3",
        linestyle="--",
        linewidth=1,
        label="uniform (mean pooling)",
    )
    ax.set_ylabel("attention weight")
    if num_heads > 1:
        ax.legend()


def _draw_series(sample, weights, ax):
    """The channels as lines; the weights shaded on a twin axis beneath."""
    steps = np.arange(len(sample))
    shade = ax.twinx()
    for head, row in enumerate(weights):
        shade.fill_between(steps, row, step="mid", alpha=0.3, color=f"C{head + 3}",
                           label=f"attention, head {head}")
    shade.set_ylabel("attention weight")
    shade.set_ylim(bottom=0)
    ax.set_zorder(shade.get_zorder() + 1)  # the series in front of the shading
    ax.patch.set_visible(False)
    for channel in range(sample.shape[1]):
        ax.plot(steps, sample[:, channel], linewidth=1)
    ax.set_ylabel("value")


def _draw_tokens(model, x, ax, cmap):
    """The tokens of ``x`` in a row, each cell shaded by its weight."""
    tokens = model.tokenizer_.tokenize(x) if isinstance(x, str) else list(x)
    weights = model.attention_weights([tokens])[0]  # (num_heads, n_tokens)
    image = ax.imshow(weights, cmap=cmap, vmin=0.0, aspect="auto")
    for head in range(len(weights)):
        for step, token in enumerate(tokens):
            ax.text(step, head, _label(token), ha="center", va="center")
    ax.set_xticks([])
    ax.set_yticks(
        np.arange(len(weights)), labels=[f"head {h}" for h in range(len(weights))]
    )
    ax.figure.colorbar(image, ax=ax, label="attention weight", shrink=0.6)
    return ax


def _is_pooling(model):
    return isinstance(model, BaseAttentionPooling) and model.__sklearn_is_fitted__()


def _draw_alignment(model, x, ax, cmap):
    weights, source, output = model.attention_weights([x], return_tokens=True)[0]
    image = ax.imshow(weights, cmap=cmap, vmin=0.0, vmax=1.0, aspect="auto")
    ax.set_xticks(np.arange(len(source)), labels=[_label(t) for t in source])
    ax.set_yticks(np.arange(len(output)), labels=[_label(t) for t in output])
    ax.set_xlabel("source")
    ax.set_ylabel("prediction")
    ax.figure.colorbar(image, ax=ax, label="attention weight")


def _label(token):
    """Make whitespace tokens visible on an axis."""
    return "␣" if token == " " else token
