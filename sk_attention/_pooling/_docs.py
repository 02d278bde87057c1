"""Docstring parts the three pooling estimators share: parameters and input."""

__all__ = ["INPUT_DOC", "PARAMETERS_DOC"]

PARAMETERS_DOC = """
    hidden_layer_sizes : int or tuple of int, default=(64, 64)
        Widths of the MLP (linear + ReLU) applied to every step before
        pooling. ``()`` pools the (standardized) input features themselves.
    attention : {"additive", "gated", "scaled_dot", "general"}, default="gated"
        The scoring rule, by its name in the registry both estimator
        families share. ``"additive"``: ``w^T tanh(V h_i + U q)`` (Ilse et
        al., 2018, Eq. 8, with a learned query ``q`` per head);
        ``"gated"``: ``w^T (tanh(V h_i + U q) * sigmoid(G h_i))`` (Eq. 9);
        ``"scaled_dot"``: ``h_i . q / sqrt(d)`` (scaled dot product with a
        learned query); ``"general"``: ``h_i^T W q`` (Luong). ``"dot"`` is a
        deprecated alias of ``"scaled_dot"`` here (it warns); in
        :class:`~sk_attention.AttentionSeq2Seq` it is the unscaled dot
        product.
    num_heads : int, default=1
        Number of attention heads; their pooled vectors are concatenated.
        Heads share the key projection and differ by their learned query.
    n_heads : int, default="deprecated"
        Deprecated alias of ``num_heads`` (the name the Transformer of
        :class:`~sk_attention.AttentionSeq2Seq` uses); setting it warns.
    attention_size : int, default=64
        Hidden width of the additive and gated scoring networks (unused by
        ``"scaled_dot"``).
    dropout : float, default=0.2
        Dropout rate after each hidden layer and on the pooled vector.
    scaling : {"global", "feature"} or None, default="global"
        How inputs are standardized before the network sees them, with
        statistics of all training steps. ``"global"``: one mean and one
        standard deviation for all values, which keeps the features'
        relative scales (pixels, embeddings, channels in one unit).
        ``"feature"``: each feature on its own, for features in different
        units. None: raw values.
    max_epochs : int, default=100
        Passes over the training data.
    batch_size : int, default=32
        Sequences per training batch. Batches group sequences of similar
        length (shuffled within pools), so little is padded.
    lr : float, default=1e-3
        Learning rate.
    optimizer : {"adam", "adamw", "sgd"} or torch optimizer class, \
default="adam"
    validation_fraction : float or None, default=None
        Fraction of the training data held out (stratified for
        classification) to report a validation loss; None trains on all.
    early_stopping : bool, default=False
        Stop when the validation loss has not improved for
        ``n_iter_no_change`` epochs and restore the best weights; needs
        ``validation_fraction``.
    n_iter_no_change : int, default=10
        Patience of early stopping, in epochs.
    gradient_clip : float or None, default=None
        Clip the gradient norm to this value.
    callbacks : list of skorch callbacks or None, default=None
        Extra callbacks passed to the skorch net.
    warm_start : bool, default=False
        If True and fitted, ``fit`` continues training the fitted network
        for ``max_epochs`` more epochs with the current training settings
        (``lr``, ``batch_size``, ``callbacks``, ...), keeping what the first
        fit learned about the data: the input scaling, the classes (new
        labels must be among them) or the target statistics. Settings or
        data that would change the network raise a ``ValueError``.
    device : str or torch.device, default="cpu"
        Where the network runs (``"cuda"`` for a GPU).
    random_state : int, RandomState instance or None, default=None
        Seeds weight initialisation, batch order, dropout and the
        validation split. With an int, CPU results are identical across
        calls.
    verbose : int, default=0
        1 prints skorch's per-epoch table; 2 also shows a progress bar over
        the chunks of inference (``transform``, ``predict``,
        ``attention_weights``).
"""

INPUT_DOC = """
    ``X`` is a 3-D array ``(n_samples, n_steps, n_features)``, a list of 2-D
    arrays ``(n_steps_i, n_features)`` of varying length, or a 2-D array
    read as ``n_samples`` univariate sequences. Ragged input is padded and
    masked internally: padding steps get weight exactly zero, so a sequence
    gives the same output alone or in any batch. Values are computed in
    float32, standardized as ``scaling`` says. Pooling ignores the order of
    the steps.
"""
