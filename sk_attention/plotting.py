"""Pictures of attention (matplotlib, the optional ``plot`` extra)."""

import numpy as np

__all__ = ["plot_attention"]


def _pyplot():
    try:
        import matplotlib.pyplot as plt
    except ImportError:
        raise ImportError(
            "plot_attention needs matplotlib: pip install 'sk-attention[plot]'."
        ) from None
    return plt


def plot_attention(model, x, *, ax=None, cmap="viridis"):
    """Draw the attention a fitted model pays to the steps of one input.

    For :class:`AttentionSeq2Seq` this is the alignment matrix of the
    prediction for ``x``: one row per predicted token, one column per source
    token. For the attention pooling estimators it is the weight of every
    step of ``x``, one row per head.

    Parameters
    ----------
    model : AttentionSeq2Seq, AttentionPooling, AttentionPoolingClassifier \
            or AttentionPoolingRegressor
        A fitted model.
    x : str, list of str, or array-like of shape (n_steps, n_features)
        One sample: a source sequence for sequence-to-sequence models, one
        sequence of vectors for the pooling models.
    ax : matplotlib Axes, default=None
        Where to draw; a new figure if None.
    cmap : str, default="viridis"

    Returns
    -------
    matplotlib.axes.Axes

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
    plt = _pyplot()
    if ax is None:
        _, ax = plt.subplots()
    if hasattr(model, "target_vocab_"):
        _draw_alignment(model, x, ax, cmap)
    elif hasattr(model, "attention_weights"):
        _draw_step_weights(model, x, ax, cmap)
    else:
        raise TypeError(
            f"model must be a fitted sk_attention estimator, got "
            f"{type(model).__name__}."
        )
    return ax


def _draw_alignment(model, x, ax, cmap):
    weights, source, output = model.attention_weights([x], return_tokens=True)[0]
    image = ax.imshow(weights, cmap=cmap, vmin=0.0, vmax=1.0, aspect="auto")
    ax.set_xticks(np.arange(len(source)), labels=[_label(t) for t in source])
    ax.set_yticks(np.arange(len(output)), labels=[_label(t) for t in output])
    ax.set_xlabel("source")
    ax.set_ylabel("prediction")
    ax.figure.colorbar(image, ax=ax, label="attention weight")


def _draw_step_weights(model, x, ax, cmap):
    weights = np.atleast_2d(model.attention_weights([x])[0])  # (heads, steps)
    image = ax.imshow(weights, cmap=cmap, vmin=0.0, aspect="auto")
    ax.set_yticks(np.arange(len(weights)), labels=[f"head {h}" for h in
                                                   range(len(weights))])
    ax.set_xlabel("step")
    ax.figure.colorbar(image, ax=ax, label="attention weight")


def _label(token):
    """Make whitespace tokens visible on an axis."""
    return "␣" if token == " " else token
