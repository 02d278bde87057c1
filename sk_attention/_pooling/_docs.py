"""Docstring parts the three pooling estimators share: parameters and input."""

__all__ = ["INPUT_DOC", "PARAMETERS_DOC", "RESOLVED_DOC"]

RESOLVED_DOC = """
    embedding_dim_, scaling_, encoder_size_, attention_, dropout_, \
linear_ngrams_, label_smoothing_, batch_size_, early_stopping_, validation_fraction_, \
n_iter_no_change_, embedding_lr_, max_epochs_, lr_schedule_, keep_best_
        The values ``fit`` used for these settings: the parameter's own
        value, or what its ``"auto"`` rule resolved from the data. The
        training rules tell three kinds of input apart: text, numeric
        sequences read by an encoder (time series), and numeric bags and
        sets (``encoder=None``), which get the fixed values of earlier
        versions.
"""

PARAMETERS_DOC = """
    encoder : {"gru", "lstm", "conv", "fcn", "transformer"} or None, \
default=None
        What turns the steps into the states the attention pools. None: the
        same MLP on every step (``hidden_layer_sizes``), which ignores the
        order of the steps: right for bags and sets (multiple-instance
        learning), and what earlier versions did. For sequences, where
        order matters (time series, text), use an encoder; ``"fcn"`` is
        the one recommended for time series (see :doc:`/benchmarks`);
        ``"gru"`` reads the word order of texts. ``"gru"``, ``"lstm"``:
        bidirectional recurrent layers (Yang et al., 2016; Lin et al.,
        2017). ``"conv"``: a convolution of width ``kernel_size``, then
        residual ones dilated 1, 2, 4, ... (the receptive field doubles
        with each layer), output as long as the input. ``"fcn"``: the fully
        convolutional network of the time-series literature (Wang et al.,
        2017): convolutions of widths 8, 5 and 3 with ``encoder_size``,
        ``2 * encoder_size`` and ``encoder_size`` channels, each with batch
        normalisation and a ReLU. ``"transformer"``: self-attention blocks
        with sinusoidal positions. Padding never changes a sample's output,
        whatever the encoder.
    encoder_size : int or "auto", default="auto"
        Width of the encoder's states (split between the two directions of
        a recurrent encoder). Unused with ``encoder=None``. ``"auto"``: 128
        with ``encoder="fcn"`` (the published network: 128, 256 and 128
        channels), else 64.
    encoder_layers : int, default=2
        Recurrent layers, convolution blocks or Transformer blocks (not
        used by ``"fcn"``, which has three).
    kernel_size : int, default=5
        Width of the convolutions of ``encoder="conv"``.
    hidden_layer_sizes : int or tuple of int, default=(64, 64)
        Widths of the MLP (linear + ReLU) applied to every step before
        pooling when ``encoder=None``. ``()`` pools the (standardized) input
        features themselves.
    attention : {"additive", "gated", "scaled_dot", "general", "mean"}, \
default="auto"
        The scoring rule, by its name in the registry both estimator
        families share. ``"additive"``: ``w^T tanh(V h_i + U q)`` (Ilse et
        al., 2018, Eq. 8, with a learned query ``q`` per head);
        ``"gated"``: ``w^T (tanh(V h_i + U q) * sigmoid(G h_i))`` (Eq. 9);
        ``"scaled_dot"``: ``h_i . q / sqrt(d)`` (scaled dot product with a
        learned query); ``"general"``: ``h_i^T W q`` (Luong). ``"mean"``:
        every step weighs ``1 / n_steps``, nothing learned (the global
        average pooling of the time-series FCN; one head only). ``"auto"``:
        ``"mean"`` with ``encoder="fcn"`` (the published network, which
        the ablation of :doc:`/benchmarks` compares with learned attention
        on top), ``"gated"`` otherwise, whatever the input. ``"dot"`` is a
        deprecated alias of ``"scaled_dot"`` here (it warns); in
        :class:`~sk_attention.AttentionSeq2Seq` it is the unscaled dot
        product. The value used is ``attention_``.
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
    label_smoothing : float or "auto", default="auto"
        Classification: each training target puts this share of its
        probability uniformly over the classes instead of all of it on the
        true class (Szegedy et al., 2016), which keeps predicted
        probabilities from growing over-confident. Unused for regression.
        ``"auto"``: 0.1 for text, whose classifiers fit their training
        texts within a few epochs (:doc:`/benchmarks` measures what it does
        to accuracy, log-loss and a soft vote); 0 for numeric input. The
        value used is ``label_smoothing_``.
    attention_size : int, default=64
        Hidden width of the additive and gated scoring networks (unused by
        ``"scaled_dot"``).
    dropout : float or "auto", default="auto"
        Dropout rate after each hidden layer and on the pooled vector.
        ``"auto"``: 0 with ``encoder="fcn"`` (batch normalisation
        regularises it, as in the published network), 0.2 otherwise,
        whatever the input. The value used is ``dropout_``.
    scaling : {"global", "feature", "series", "series_and_global"} or None, \
default="auto"
        How numeric inputs are standardized before the network sees them.
        ``"global"``: one mean and one standard deviation of all training
        values, which keeps the features' relative scales (pixels,
        embeddings, channels in one unit). ``"feature"``: each feature on
        its own, with statistics of all training steps, for features in
        different units. ``"series"``: each feature of each sequence
        z-normalised on its own over its steps, at fit and at prediction (as
        the UCR/UEA time-series literature prepares series): the network
        sees shapes, not levels or amplitudes; a feature constant over a
        sequence becomes 0. ``"series_and_global"``: both side by side, each
        feature z-normalised per sequence and standardized as ``"global"``
        does (the encoder reads twice as many features), so that shapes and
        levels can both tell classes apart. None: raw values. ``"auto"``:
        ``"series_and_global"`` for univariate series with ``encoder="fcn"``,
        ``"global"`` otherwise (in multivariate series the channels'
        relative levels tell classes apart). Not used for text. The
        standardized values are clipped to ±1e6, far outside any training
        data, so that the network's float32 arithmetic stays finite for any
        finite input. The value used is ``scaling_``.
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
        Width of the learned token embedding (text input; not used for
        numeric input). ``"auto"``: the width of ``pretrained_embeddings``
        when given, else 64. The value used is ``embedding_dim_``.
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
    linear_ngrams : int, None or "auto", default="auto"
        Text input: add to the prediction a linear model of the text's
        token n-grams of 1 to ``linear_ngrams`` tokens, learned with the
        network at ``embedding_lr`` (fastText's bag of word n-grams, Joulin
        et al., 2017, and the features of a TF-IDF + logistic regression
        model): each n-gram scores every output, and a text adds up its
        n-grams' scores divided by the square root of their number.
        Unigrams have a row per vocabulary token, longer n-grams share
        65,536 hashed rows. The attention weights and ``transform`` do not
        see the term; ``predict``, ``predict_proba`` and ``score`` do.
        None: the attention model alone. ``"auto"``: 2 for texts read as
        words (any ``tokenizer`` but ``"char"``) by the classifier and the
        regressor, which gains a phrase-level memory a linear model has and
        the encoder lacks (:doc:`/benchmarks`), unless the term would hold
        more than 2**24 weights (``(vocabulary size + 65,536) * n_outputs``:
        thousands of classes, or hundreds with a large vocabulary), which
        the optimizer would update at every step; None for character tokens,
        which the encoder reads in order already, for
        :class:`~sk_attention.AttentionPooling`, whose output is the pooled
        vector, and for numeric input. The value used is ``linear_ngrams_``.
    max_epochs : int or "auto", default="auto"
        Passes over the training data (at most, with early stopping).
        ``"auto"``: for text, enough epochs for about 4,000 updates, at
        least 10 and at most 100 (``ceil(4000 / batches per epoch)``); for
        numeric sequences read by an encoder (time series), enough epochs
        for about 3,000 updates, as long as the network sees at most 50
        million steps in all (long or many series get fewer epochs, never
        fewer than 10); 100 for bags and sets (``encoder=None``). The value
        used is ``max_epochs_``; ``max_time`` may end training sooner.
    batch_size : int or "auto", default="auto"
        Sequences per training batch. Batches of text and of bags group
        sequences of similar length (shuffled within pools), so little is
        padded; numeric sequences read by an encoder are batched at random
        every epoch, as the time-series recipe trains them. ``"auto"``:
        for text, about 250 batches per epoch, a power of two from 32 to
        256 (32 below 16,000 texts, 128 for 40,000): larger batches are
        fewer, larger kernel calls; ``min(16, max(2, n_samples // 10))`` for
        numeric sequences read by an encoder (small batches, many updates,
        as deep time-series classifiers are trained); 32 for bags and sets.
        The value used is ``batch_size_``.
    lr : float, default=1e-3
        Learning rate.
    embedding_lr : float or "auto", default="auto"
        Learning rate of the token (and n-gram) embeddings of text input.
        ``"auto"``: ``10 * lr``: a word seen once an epoch gets one update
        an epoch, which at the network's rate barely moves its vector
        (:doc:`/benchmarks` compares the two rates). ``lr`` for numeric
        input, which has no embedding. The value used is ``embedding_lr_``.
    lr_schedule : {"constant", "cosine", "plateau"} or "auto", default="auto"
        ``"cosine"``: epoch ``k`` of ``max_epochs`` trains at
        ``lr * (1 + cos(pi * k / max_epochs)) / 2``, from ``lr`` down to
        almost zero in the last epoch (torch's ``CosineAnnealingLR``).
        ``"plateau"``: halve the learning rate when the training loss (the
        validation loss with ``validation_fraction``) has not improved for
        ``max(5, max_epochs // 40)`` epochs, down to ``lr / 10`` (skorch's
        ``LRScheduler`` with ``ReduceLROnPlateau``). ``"constant"``: keep
        ``lr``. ``"auto"``: ``"cosine"`` for numeric sequences read by an
        encoder (time series), whose epochs the recipe fixes in advance;
        ``"constant"`` for text and for bags and sets. ``max_time``
        replaces any of them with its own schedule. The value used is
        ``lr_schedule_``.
    keep_best : bool or "auto", default="auto"
        At the end of training, restore the weights of the epoch with the
        lowest training loss (validation loss with ``validation_fraction``)
        instead of keeping the last epoch's (early stopping restores its
        best epoch either way). ``"auto"``: True for numeric sequences read
        by an encoder (time series), False for text and for bags and sets.
        The value used is ``keep_best_``.
    optimizer : {"adam", "adamw", "sgd"} or torch optimizer class, \
default="adam"
        ``"adam"`` and ``"adamw"`` update every weight in one fused kernel
        where torch has one (CUDA; CPUs from torch 2.4); a class is used as
        given.
    validation_fraction : float, None or "auto", default="auto"
        Fraction of the training data held out (stratified for
        classification) to report a validation loss; None trains on all.
        ``"auto"``: 0.1 when early stopping is on, else None. The value
        used is ``validation_fraction_``.
    early_stopping : bool or "auto", default="auto"
        Stop when the validation loss has not improved for
        ``n_iter_no_change`` epochs and restore the best weights; needs
        ``validation_fraction``. ``"auto"``: on for text from 2,000
        training texts (unless ``validation_fraction=None``), where a tenth
        of them estimates the loss well; off for fewer texts and for
        numeric input (time series keep the best epoch's weights instead,
        see ``keep_best``). The value used is ``early_stopping_``.
    n_iter_no_change : int or "auto", default="auto"
        Patience of early stopping, in epochs. ``"auto"``: 3 for text, whose
        validation loss turns within a few epochs; 10 for numeric input.
        The value used is ``n_iter_no_change_``.
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
