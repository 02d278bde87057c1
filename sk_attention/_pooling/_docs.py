"""Docstring parts the three pooling estimators share: parameters and input."""

__all__ = ["INPUT_DOC", "PARAMETERS_DOC", "RESOLVED_DOC"]

RESOLVED_DOC = """
    embedding_dim_, batch_size_, early_stopping_, validation_fraction_, \
n_iter_no_change_, embedding_lr_, max_epochs_
        The values ``fit`` used for these settings: the parameter's own
        value, or what its ``"auto"`` rule resolved from the data.
"""

PARAMETERS_DOC = """
    encoder : {"gru", "lstm", "conv", "transformer"} or None, default=None
        What turns the steps into the states the attention pools. None: the
        same MLP on every step (``hidden_layer_sizes``), which ignores the
        order of the steps: right for bags and sets (multiple-instance
        learning), and what earlier versions did. For sequences, where
        order matters (time series, text), use an encoder; ``"conv"`` is
        the one recommended for time series (the most accurate encoder on
        four of five sets in :doc:`/benchmarks`); ``"gru"`` reads the word
        order of texts. ``"gru"``, ``"lstm"``: bidirectional recurrent
        layers (Yang et al., 2016; Lin et al., 2017). ``"conv"``: a
        convolution of width ``kernel_size``, then residual ones dilated
        1, 2, 4, ... (the receptive field doubles with each layer), output
        as long as the input. ``"transformer"``:
        self-attention blocks with sinusoidal positions. Padding never
        changes a sample's output, whatever the encoder.
    encoder_size : int, default=64
        Width of the encoder's states (split between the two directions of
        a recurrent encoder). Unused with ``encoder=None``.
    encoder_layers : int, default=2
        Recurrent layers, convolution blocks or Transformer blocks.
    kernel_size : int, default=5
        Width of the convolutions of ``encoder="conv"``.
    encoder_heads : int, default=4
        Self-attention heads of ``encoder="transformer"``; must divide
        ``encoder_size``.
    hidden_layer_sizes : int or tuple of int, default=(64, 64)
        Widths of the MLP (linear + ReLU) applied to every step before
        pooling when ``encoder=None``. ``()`` pools the (standardized) input
        features themselves.
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
    attention_penalty : float, default=0.0
        Weight of the penalty ``||A A^T - I||_F^2`` on each sample's
        ``(num_heads, n_steps)`` attention weights ``A`` (Lin et al., 2017),
        added to the loss: it pushes several heads to attend to different
        steps. 0 adds nothing.
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
        units. None: raw values. Not used for text. The standardized values
        are clipped to ±1e6, far outside any training data, so that the
        network's float32 arithmetic stays finite for any finite input.
    input_layout : {"steps_first", "channels_first"}, default="steps_first"
        Where the time axis of numeric ``X`` is. ``"steps_first"``: ``(n_samples,
        n_steps, n_features)`` (batch-first, as in PyTorch), or a list of
        ``(n_steps_i, n_features)`` arrays. ``"channels_first"``: ``(n_samples,
        n_channels, n_timepoints)``, the numpy3D layout of aeon and sktime, or
        a list of ``(n_channels, n_timepoints_i)`` arrays. Every method reads
        ``X`` in this layout.
    tokenizer : {"word", "wordpunct", "char"} or callable, default="word"
        How strings in ``X`` are split into tokens: on whitespace;
        lowercased and split into runs of word characters and of
        punctuation (``"wordpunct"``, the tokens of uncased word vectors
        such as GloVe 6B); into characters; or by a callable ``str -> list
        of str`` (which ``load`` must be given again). Token lists are used
        as they are.
    embedding_dim : int or "auto", default="auto"
        Width of the learned token embedding (text input). ``"auto"``: the
        width of ``pretrained_embeddings`` when given, else 64.
    min_frequency : int, default=1
        Tokens seen fewer times in ``fit`` map to the unknown token, as do
        tokens never seen.
    max_vocabulary_size : int or None, default=None
        Keep at most this many tokens (the most frequent).
    pretrained_embeddings : (list of str, array-like) or None, default=None
        ``(tokens, vectors)``, vectors of shape ``(len(tokens),
        embedding_dim)``: the embedding of each vocabulary token found among
        ``tokens`` starts from its vector (then trains). Nothing is
        downloaded. A saved model keeps the trained embedding, not this
        setting.
    subword_ngrams : (int, int) or (int, int, int) or None, default=None
        ``(min_n, max_n)``: a token's vector is its own embedding plus the
        mean embedding of its character n-grams of lengths ``min_n`` to
        ``max_n`` (taken between boundary marks: ``"<film>"``
        gives ``"<fi"``, ``"fil"``, ..., ``"lm>"``), hashed into 65,536
        buckets, or into
        ``n_buckets`` given as a third value (fastText's subword vectors,
        Bojanowski et al., 2017). Tokens never seen in ``fit`` then get a
        vector from the n-grams they share with seen ones, and rare words
        learn from common ones: useful for short texts, rare words and
        names. ``(3, 6)`` is fastText's choice. None: token embeddings only.
        Not used for numeric input; models with it save, load and pickle,
        but ONNX export does not take text models.
    max_epochs : int or "auto", default="auto"
        Passes over the training data (at most, with early stopping).
        ``"auto"``: for text, enough epochs for about 4,000 updates, at
        least 10 and at most 100 (``ceil(4000 / batches per epoch)``); for
        numeric input, 100.
    batch_size : int or "auto", default="auto"
        Sequences per training batch. Batches group sequences of similar
        length (shuffled within pools), so little is padded. ``"auto"``:
        for text, about 250 batches per epoch, a power of two from 32 to
        256 (32 below 16,000 texts, 128 for 40,000): larger batches are
        fewer, larger kernel calls; for numeric input, 32.
    lr : float, default=1e-3
        Learning rate.
    embedding_lr : float or "auto", default="auto"
        Learning rate of the token (and n-gram) embeddings of text input.
        ``"auto"``: ``10 * lr``: a word seen once an epoch gets one update
        an epoch, which at the network's rate barely moves its vector
        (:doc:`/benchmarks` measures the gain). Not used for numeric input.
    optimizer : {"adam", "adamw", "sgd"} or torch optimizer class, \
default="adam"
    validation_fraction : float, None or "auto", default="auto"
        Fraction of the training data held out (stratified for
        classification) to report a validation loss; None trains on all.
        ``"auto"``: 0.1 when early stopping is on, else None.
    early_stopping : bool or "auto", default="auto"
        Stop when the validation loss has not improved for
        ``n_iter_no_change`` epochs and restore the best weights; needs
        ``validation_fraction``. ``"auto"``: on for text from 2,000
        training texts (unless ``validation_fraction=None``), where a tenth
        of them estimates the loss well; off for fewer texts and for
        numeric input.
    n_iter_no_change : int or "auto", default="auto"
        Patience of early stopping, in epochs. ``"auto"``: 3 for text, whose
        validation loss turns within a few epochs; 10 for numeric input.
    gradient_clip : float or None, default=None
        Clip the gradient norm to this value.
    max_time : float or None, default=None
        Seconds of training (wall-clock) ``fit`` may take. An epoch starts
        only if it is expected to end within them (the first always runs),
        and the learning rate falls linearly from ``lr`` to zero at the end
        of the last epoch that fits (skorch callback ``TimeBudget``).
        ``max_epochs`` and early stopping still apply.
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
    read as ``n_samples`` univariate sequences; ``input_layout="channels_first"``
    reads aeon's and sktime's ``(n_samples, n_channels, n_timepoints)``
    instead. ``X`` may also be texts (strings, split by ``tokenizer``) or
    token lists, whose tokens are embedded. Ragged input is padded and
    masked internally: padding steps get weight exactly zero, and no
    encoder lets padding reach a real step, so a sequence gives the same
    output alone or in any batch. Values are computed in float32,
    standardized as ``scaling`` says. With ``encoder=None`` pooling ignores
    the order of the steps; the other encoders read it.
"""
