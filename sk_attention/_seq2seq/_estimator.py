"""AttentionSeq2Seq: the scikit-learn estimator around the torch network.

The seq2seq family's hooks into :class:`~sk_attention._base.AttentionEstimator`:
text in (tokenizers, vocabularies), the network of the chosen architecture
(:data:`~._architectures.ARCHITECTURES`), and decoding back to text.
"""

from numbers import Integral, Real

import numpy as np
from sklearn.base import _fit_context
from sklearn.utils._param_validation import HasMethods, Interval, StrOptions
from sklearn.utils.validation import check_is_fitted
from skorch import NeuralNet

from .._attention import ATTENTION_SCORES
from .._base import AUTO, AttentionEstimator, TrainingData
from .._ragged import chunk_slices
from .._subwords import SUBWORD_KINDS, is_subword_tokenizer, subword_from_json
from .._text import (
    check_pairs,
    check_text_sequences,
    decode_output,
    tokenize_items,
)
from .._training import CheckpointAveraging, progress
from ..metrics import sequence_accuracy
from ._architectures import ARCHITECTURES
from ._data import SequencePairDataset
from ._encoding import (
    encoding_from_config,
    encoding_to_config,
    learn_encoding,
    make_tokenizers,
    pair_ids,
    tokenize_pairs,
)
from ._inference import decode
from ._model import SequenceLoss
from ._outputs import OutputsMixin
from ._sizing import SIZE_RULES
from ._validation import ValidationDecoding

__all__ = ["AttentionSeq2Seq"]

# predict, predict_nbest, score_samples and attention_weights work through the
# input this many batches at a time.
_CHUNK_BATCHES = 16

_TOKENIZER_CONSTRAINT = [
    StrOptions({"char", "word", *SUBWORD_KINDS}),
    callable,
    tuple,
    HasMethods(["encode", "to_str"]),  # a tokenizers.Tokenizer
]
_TOKENIZERS = ("source_tokenizer", "target_tokenizer")
_AUTO = StrOptions({AUTO})
# How a model file's settings hold a given tokenizers.Tokenizer.
_SUBWORD_SETTING = "tokenizers.Tokenizer"


class AttentionSeq2Seq(OutputsMixin, AttentionEstimator):
    """Sequence-to-sequence learning with attention, on plain strings.

    An encoder reads each source sequence; a decoder writes the output one
    token at a time, attending at every step over all encoder outputs with
    a learned softmax (the attention weights). Two architectures: a
    recurrent encoder-decoder (the default), or a Transformer, built of
    multi-head self-attention and cross-attention. Training runs on skorch with teacher
    forcing; prediction decodes with batched greedy or beam search.

    Parameters marked "RNN only" or "Transformer only" are ignored by the
    other architecture; the others apply to both.

    Parameters
    ----------
    architecture : {"rnn", "transformer"}, default="rnn"
        ``"rnn"``: a recurrent encoder and an attentive recurrent decoder
        (Bahdanau et al. 2015; Luong et al. 2015). ``"transformer"``: encoder
        and decoder stacks of pre-norm multi-head attention and feed-forward
        blocks (Vaswani et al. 2017); greedy and beam search reuse the
        decoder's cached keys and values, so each step costs one position.
    attention : {"additive", "dot", "general", "scaled_dot", "gated"}, \
            default="additive"
        RNN only. The scoring rule. ``"additive"`` is Bahdanau's
        ``v^T tanh(W x_i + U h + b)``; ``"dot"`` and ``"general"`` are
        Luong's ``x_i . h`` and ``x_i^T W h``; ``"scaled_dot"`` divides the
        dot product by ``sqrt(hidden_size)``; ``"gated"`` is the gated
        additive rule of Ilse et al. (2018).
    cell : {"lstm", "gru"}, default="lstm"
        RNN only. The recurrent cell of encoder and decoder.
    input_feeding : bool or "auto", default="auto"
        RNN only. Whether the decoder feeds each step's attentional vector
        (its state combined with the attended context) into the next step
        (Luong et al. 2015, Section 3.3), so that it knows where it
        attended before. Without it the decoder's recurrence reads only the
        previous token, so training runs its layers over the whole target
        in one fused kernel call and attends from all steps at once instead
        of looping over the steps: each epoch costs less, while input
        feeding learns more per epoch. ``"auto"``: True below 20,000
        training pairs, else False (the benchmarks page of the
        documentation measures both sides).
    embedding_dim : int or "auto", default="auto"
        RNN only. Size of the token embeddings (source and target); the
        Transformer's embeddings have ``hidden_size`` features. ``"auto"``:
        64 below 20,000 training pairs, else 128.
    hidden_size : int or "auto", default="auto"
        RNN: size of the encoder outputs and of the decoder state; with
        ``bidirectional=True`` each encoder direction has ``hidden_size // 2``
        units (so it must be even). Transformer: the model size (embeddings
        and every layer's output), a multiple of ``num_heads``. ``"auto"``:
        128 below 20,000 training pairs, else 256, and for the RNN in
        bfloat16 (``precision``) 512 when ``max_time`` is an hour (3600) or
        more.
    attention_size : int, default=None
        RNN only. Hidden size of the scoring network of ``"additive"`` and
        ``"gated"`` attention; None uses ``hidden_size``.
    num_layers : int or "auto", default="auto"
        Layers of the encoder and of the decoder: recurrent layers, or
        Transformer blocks. ``"auto"``: 1 below 20,000 training pairs,
        else 2.
    bidirectional : bool, default=True
        RNN only. Whether the encoder reads the source in both directions.
    num_heads : int, default=4
        Transformer only. Attention heads of every attention block.
    feedforward_size : int, default=None
        Transformer only. Hidden size of the feed-forward blocks; None uses
        ``4 * hidden_size``.
    positional_encoding : {"sinusoidal", "learned"}, default="sinusoidal"
        Transformer only. Fixed sines and cosines of the position (any
        length), or a learned vector per position, for up to twice the
        longest source or ``max_output_length`` positions, whichever is more
        (longer inputs are refused in ``predict``).
    dropout : float or "auto", default="auto"
        RNN: on embeddings, between layers and before the output layer.
        Transformer: on embeddings and on the output of every attention and
        feed-forward block, not inside them (Vaswani et al. 2017).
        ``"auto"``: 0.1 at every data size (measured against 0.0, 0.2 and
        0.3 on 100,000 pairs on :doc:`/benchmarks`).
    attention_dropout : float, default=0.0
        Both architectures. Dropout on the attention weights during
        training: each step randomly ignores some of the steps it attends
        to. ``attention_weights`` always reports the undropped weights.
    precision : {"float32", "bfloat16", "auto"}, default="auto"
        RNN only. The number format of training's forward and backward
        passes: ``"bfloat16"`` runs them under :func:`torch.autocast`, while
        the weights, the optimizer and the loss stay float32; validation,
        decoding and saved models are float32 either way. ``"auto"``:
        ``"bfloat16"`` from 20,000 training pairs where the device computes
        it natively (a CPU with AVX512-BF16 or AMX instructions, a CUDA GPU
        with bfloat16 support), else ``"float32"``.
    label_smoothing : float or "auto", default="auto"
        Both architectures. The training targets put this much probability
        mass uniformly over the vocabulary instead of all of it on the true
        token (Szegedy et al. 2016), which discourages over-confident
        outputs. ``"auto"``: 0 below 20,000 training pairs, else 0.1.
    source_tokenizer, target_tokenizer : {"char", "word", "bpe", "unigram"}, \
            callable, (callable, callable) or tokenizers.Tokenizer, \
            default="char"
        How strings are split into tokens: characters, whitespace-separated
        words, subwords, a callable ``str -> list of str``, or a
        ``(tokenize, detokenize)`` pair. ``"bpe"`` (byte-pair encoding) and
        ``"unigram"`` (a unigram language model) learn byte-level subwords
        from the training strings in ``fit``, at most
        ``subword_vocabulary_size`` of them; a ``tokenizers.Tokenizer`` is
        used as given (a copy). Subword tokenizers need the Hugging Face
        ``tokenizers`` package (``pip install 'sk-attention[subword]'``).
        When ``y`` holds strings the target tokenizer must be able to join
        tokens back, so a bare callable (or a ``tokenizers.Tokenizer``
        without a decoder) is refused there. Ignored for inputs given as
        token lists, except that ``"bpe"`` and ``"unigram"`` need strings to
        learn from.
    subword_vocabulary_size : int, default=1000
        The most subwords a ``"bpe"`` or ``"unigram"`` tokenizer learns, its
        256 single bytes included.
    min_frequency : int, default=1
        Tokens seen fewer times in ``fit`` map to the unknown token.
    max_vocabulary_size : int, default=None
        Keep only this many of the most frequent tokens per vocabulary.
    beam_size : int, default=1
        1 decodes greedily; larger values run a batched beam search.
    length_penalty : float, default=1.0
        Beam search ranks finished outputs by log-probability divided by
        ``length ** length_penalty``.
    max_output_length : int, default=None
        The most tokens a prediction may have (the end token included).
        None uses twice the longest target seen in ``fit``, plus one.
    max_epochs : int or "auto", default="auto"
        Passes over the training data (early stopping may end sooner).
        ``"auto"``: 20, or with ``max_time`` no bound but the time.
    batch_size : int, default=64
        Sequences per training batch. Batches group sequences of similar
        length, shuffled, so that padding costs little.
    predict_batch_size : int, default=256
        Sequences decoded at once by ``predict`` and ``attention_weights``.
    lr : float or "auto", default="auto"
        Learning rate (for the Transformer, its peak; see ``warmup_steps``).
        The recurrent model halves it when ``valid_error`` has not reached
        a new best for more than ``lr_patience`` epochs (PyTorch's
        ``ReduceLROnPlateau`` through skorch's ``LRScheduler``; needs
        ``validation_fraction``). With ``max_time`` both architectures
        anneal it to zero at the deadline instead. ``"auto"``: 1e-3 below
        20,000 training pairs and for the Transformer, else 2e-3.
    lr_patience : int or "auto", default="auto"
        Recurrent model only: epochs without a new best ``valid_error``
        it tolerates before halving ``lr``. 0 halves after every such
        epoch, which suits large validation splits whose error is steady;
        on a few hundred pairs the error is noisy, and 0 halves too often.
        ``"auto"``: 2 below 20,000 training pairs, else 0.
    warmup_steps : int, default=200
        Transformer only. The learning rate rises linearly from 0 to ``lr``
        over this many batches, then decays as the inverse square root of
        the batch number (Vaswani et al. 2017, Eq. 3), through skorch's
        ``LRScheduler``; 0 keeps ``lr`` constant. A warm-started ``fit``
        starts the schedule again.
    optimizer : {"adam", "adamw", "sgd"} or torch optimizer class, \
            default="adam"
        ``"adam"`` and ``"adamw"`` update every weight in one fused kernel
        where torch has one (CUDA; CPUs from torch 2.4); a class is used as
        given.
    validation_fraction : float, None or "auto", default="auto"
        Fraction of the training data held out. Each epoch records its
        ``valid_loss`` and, by greedy decoding of the held-out sources,
        ``valid_error`` (edit distance per reference token: the phoneme or
        character error rate) and ``valid_acc`` (exact match) in
        ``history_``. None trains on everything. ``"auto"``: 0.1, but None
        with ``max_time`` from 20,000 training pairs on (unless
        ``early_stopping=True``): the learning rate then anneals to zero
        at the deadline, so the last epoch is the one to keep, and a tenth
        of a large set teaches more as training pairs.
    early_stopping : bool or "auto", default="auto"
        Stop when ``valid_error`` has not improved for ``n_iter_no_change``
        epochs and restore the weights of the epoch with the lowest one
        (skorch's ``EarlyStopping``): the epoch whose decoded outputs are
        best, which the validation loss does not always pick. Needs
        ``validation_fraction``. ``"auto"``: on whenever there is a
        validation split.
    n_iter_no_change : int, default=5
        Patience of early stopping, in epochs.
    average_checkpoints : int, default=3
        When training ends, replace the weights of the selected epoch (the
        one early stopping restored, or the last) by the mean of the weights
        of the ``average_checkpoints`` epochs that end at it (of as many as
        ran, if fewer), if the mean decodes the validation split at least
        as well (``valid_error``). Averaging the last checkpoints is part of
        the published recipes of both architectures;
        ``history_[-1]["averaged"]`` lists the epochs averaged (empty when
        the mean was not kept). 1 turns it off, and without a validation
        split nothing is averaged.
    max_time : float or None, default=None
        Seconds of training (wall-clock) ``fit`` may take. An epoch starts
        only if it is expected to end within them (the first always runs),
        and the learning rate falls linearly from ``lr`` to zero at the end
        of the last epoch that fits, after the Transformer's ``warmup_steps``
        (skorch-callback ``TimeBudget``); this schedule replaces the
        plateau halving and the inverse square-root decay, and needs no
        patience tuned. ``max_epochs="auto"`` then sets no epoch bound;
        early stopping still applies. How the word error of a model on
        about 100,000 pairs grows with the budget is measured on the
        benchmarks page of the documentation.
    gradient_clip : float or None, default=1.0
        Clip the gradient norm to this value (skorch's
        ``GradientNormClipping``); None disables clipping.
    callbacks : list of skorch callbacks, default=None
        Extra callbacks (e.g. ``Checkpoint``, ``LRScheduler``,
        ``ProgressBar``), run after the defaults above.
    warm_start : bool, default=False
        If True and fitted, ``fit`` continues training the fitted network
        for ``max_epochs`` more epochs with the current training settings
        (``lr``, ``batch_size``, ``callbacks``, ...), keeping the
        tokenizers and vocabularies of the first fit (new tokens map to the
        unknown token). Settings that would change the network raise a
        ``ValueError``.
    device : str or torch.device, default="cpu"
        Where the network runs, e.g. ``"cuda"``.
    random_state : int, RandomState instance or None, default=None
        Seeds weight initialisation, batch order, dropout and the validation
        split: on the CPU, equal seeds give bit-identical models.
    verbose : int, default=0
        1 prints skorch's per-epoch table; 2 also shows a progress bar over
        the chunks of ``predict`` and ``attention_weights``.

    Attributes
    ----------
    module_ : torch.nn.Module
        The trained network (``net_.module_``).
    net_ : skorch.NeuralNet
        The skorch net that trained it.
    history_ : skorch.History
        Per-epoch training record (``train_loss``, ``valid_loss``,
        ``valid_error``, ``valid_acc``, ...).
    source_vocab_, target_vocab_ : Vocabulary
        Token <-> id maps learned in ``fit``.
    target_is_text_ : bool
        Whether ``y`` held strings (so ``predict`` returns strings) or token
        lists (so it returns token lists).
    max_output_length_ : int
        The output bound used by ``predict``.
    input_feeding_, embedding_dim_, hidden_size_, num_layers_, dropout_, \
label_smoothing_, lr_, lr_patience_, precision_, max_epochs_, \
validation_fraction_, early_stopping_ : bool, int, float, str or None
        The values ``fit`` used: the parameter's, or the one its ``"auto"``
        rule resolved from the number of training pairs.

    See Also
    --------
    AttentionPooling : attention over the steps of a sequence of vectors.
    sk_attention.plot_attention : draw the attention weights of a prediction.

    Notes
    -----
    The size-aware defaults (``"auto"``) keep a small, quick model for a
    few thousand pairs and build the larger one that learns more per
    CPU-minute from 20,000 pairs on; set any of them to keep it fixed.
    With about 100,000 pairs, give the training time you have with
    ``max_time``.

    Composition rather than subclassing: the estimator builds a
    ``skorch.NeuralNet`` in ``fit``, so its own hyper-parameters are plain
    keyword arguments that scikit-learn validates and ``GridSearchCV`` can
    tune, while skorch runs the training loop, validation, callbacks and
    history.

    References
    ----------
    Bahdanau, Cho and Bengio (2015), "Neural machine translation by jointly
    learning to align and translate". Luong, Pham and Manning (2015),
    "Effective approaches to attention-based neural machine translation".
    Vaswani et al. (2017), "Attention is all you need". Xiong et al. (2020),
    "On layer normalization in the Transformer architecture" (pre-norm).
    Szegedy et al. (2016), "Rethinking the Inception architecture for
    computer vision" (label smoothing).

    Examples
    --------
    >>> from sk_attention import AttentionSeq2Seq
    >>> X = ["abc", "bca", "cab", "acb", "bac", "cba"] * 20
    >>> y = [x[::-1] for x in X]
    >>> model = AttentionSeq2Seq(hidden_size=32, embedding_dim=16, max_epochs=30,
    ...                          lr=0.01, validation_fraction=None,
    ...                          early_stopping=False, random_state=0).fit(X, y)
    >>> model.predict(["abc", "cab"])
    array(['cba', 'bac'], dtype=object)
    >>> model.score(X, y)
    1.0
    >>> model.attention_weights(["abc"])[0].shape
    (3, 3)

    The same task with a small Transformer:

    >>> transformer = AttentionSeq2Seq(
    ...     architecture="transformer", hidden_size=32, num_heads=2,
    ...     max_epochs=30, lr=0.01, warmup_steps=20, validation_fraction=None,
    ...     early_stopping=False, random_state=0).fit(X, y)
    >>> transformer.predict(["abc", "cab"])
    array(['cba', 'bac'], dtype=object)
    """

    _parameter_constraints: dict = {
        **AttentionEstimator._parameter_constraints,
        "architecture": [StrOptions(set(ARCHITECTURES))],
        "attention": [StrOptions(set(ATTENTION_SCORES))],
        "cell": [StrOptions({"lstm", "gru"})],
        "input_feeding": ["boolean", _AUTO],
        "embedding_dim": [Interval(Integral, 1, None, closed="left"), _AUTO],
        "hidden_size": [Interval(Integral, 1, None, closed="left"), _AUTO],
        "attention_size": [Interval(Integral, 1, None, closed="left"), None],
        "num_layers": [Interval(Integral, 1, None, closed="left"), _AUTO],
        "bidirectional": ["boolean"],
        "num_heads": [Interval(Integral, 1, None, closed="left")],
        "feedforward_size": [Interval(Integral, 1, None, closed="left"), None],
        "positional_encoding": [StrOptions({"sinusoidal", "learned"})],
        "dropout": [Interval(Real, 0, 1, closed="left"), _AUTO],
        "attention_dropout": [Interval(Real, 0, 1, closed="left")],
        "label_smoothing": [Interval(Real, 0, 1, closed="left"), _AUTO],
        "lr": [Interval(Real, 0, None, closed="neither"), _AUTO],
        "warmup_steps": [Interval(Integral, 0, None, closed="left")],
        "lr_patience": [Interval(Integral, 0, None, closed="left"), _AUTO],
        "precision": [StrOptions({"float32", "bfloat16", AUTO})],
        "max_epochs": [Interval(Integral, 1, None, closed="left"), _AUTO],
        "source_tokenizer": _TOKENIZER_CONSTRAINT,
        "target_tokenizer": _TOKENIZER_CONSTRAINT,
        "subword_vocabulary_size": [Interval(Integral, 1, None, closed="left")],
        "min_frequency": [Interval(Integral, 1, None, closed="left")],
        "max_vocabulary_size": [Interval(Integral, 1, None, closed="left"), None],
        "beam_size": [Interval(Integral, 1, None, closed="left")],
        "length_penalty": [Interval(Real, 0, None, closed="left")],
        "max_output_length": [Interval(Integral, 1, None, closed="left"), None],
        "predict_batch_size": [Interval(Integral, 1, None, closed="left")],
        "average_checkpoints": [Interval(Integral, 1, None, closed="left")],
        "validation_fraction": [
            *AttentionEstimator._parameter_constraints["validation_fraction"], _AUTO
        ],
        "early_stopping": ["boolean", _AUTO],
    }

    # The epoch whose decoded outputs are best, not the one of lowest loss.
    _selection_metric = ("valid_error", True)

    _auto_rules = SIZE_RULES

    _encoding_attributes = (
        "source_tokenizer_",
        "target_tokenizer_",
        "source_vocab_",
        "target_vocab_",
        "target_is_text_",
        "max_output_length_",
        "_max_positions",
    )

    def __init__(
        self,
        *,
        architecture="rnn",
        attention="additive",
        cell="lstm",
        input_feeding="auto",
        embedding_dim="auto",
        hidden_size="auto",
        attention_size=None,
        num_layers="auto",
        bidirectional=True,
        num_heads=4,
        feedforward_size=None,
        positional_encoding="sinusoidal",
        dropout="auto",
        attention_dropout=0.0,
        precision="auto",
        label_smoothing="auto",
        source_tokenizer="char",
        target_tokenizer="char",
        subword_vocabulary_size=1000,
        min_frequency=1,
        max_vocabulary_size=None,
        beam_size=1,
        length_penalty=1.0,
        max_output_length=None,
        max_epochs="auto",
        batch_size=64,
        predict_batch_size=256,
        lr="auto",
        lr_patience="auto",
        warmup_steps=200,
        optimizer="adam",
        validation_fraction="auto",
        early_stopping="auto",
        n_iter_no_change=5,
        average_checkpoints=3,
        max_time=None,
        gradient_clip=1.0,
        callbacks=None,
        warm_start=False,
        device="cpu",
        random_state=None,
        verbose=0,
    ):
        self.architecture = architecture
        self.attention = attention
        self.cell = cell
        self.input_feeding = input_feeding
        self.embedding_dim = embedding_dim
        self.hidden_size = hidden_size
        self.attention_size = attention_size
        self.num_layers = num_layers
        self.bidirectional = bidirectional
        self.num_heads = num_heads
        self.feedforward_size = feedforward_size
        self.positional_encoding = positional_encoding
        self.dropout = dropout
        self.attention_dropout = attention_dropout
        self.precision = precision
        self.label_smoothing = label_smoothing
        self.source_tokenizer = source_tokenizer
        self.target_tokenizer = target_tokenizer
        self.subword_vocabulary_size = subword_vocabulary_size
        self.min_frequency = min_frequency
        self.max_vocabulary_size = max_vocabulary_size
        self.beam_size = beam_size
        self.length_penalty = length_penalty
        self.max_output_length = max_output_length
        self.max_epochs = max_epochs
        self.batch_size = batch_size
        self.predict_batch_size = predict_batch_size
        self.lr = lr
        self.lr_patience = lr_patience
        self.warmup_steps = warmup_steps
        self.optimizer = optimizer
        self.validation_fraction = validation_fraction
        self.early_stopping = early_stopping
        self.n_iter_no_change = n_iter_no_change
        self.average_checkpoints = average_checkpoints
        self.max_time = max_time
        self.gradient_clip = gradient_clip
        self.callbacks = callbacks
        self.warm_start = warm_start
        self.device = device
        self.random_state = random_state
        self.verbose = verbose

    # -- scikit-learn API ---------------------------------------------------

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y) -> "AttentionSeq2Seq":
        """Learn the vocabularies and train the network.

        Parameters
        ----------
        X : sequence of str or of list of str
            Source sequences: strings (split by ``source_tokenizer``) or
            token lists. A list, tuple, 1-D array or pandas Series.
        y : sequence of str or of list of str
            Target sequences, as many as in ``X``.

        Returns
        -------
        self : AttentionSeq2Seq
        """
        return self._fit(X, y)

    def predict(self, X):
        """Decode the output sequence of each source sequence.

        Parameters
        ----------
        X : sequence of str or of list of str
            Tokens unseen in ``fit`` map to the unknown token.

        Returns
        -------
        ndarray of shape (n_samples,), dtype object
            Strings if ``y`` held strings in ``fit``, else token lists.
        """
        check_is_fitted(self)
        X_items, _ = check_text_sequences(X, "X")
        outputs = np.empty(len(X_items), dtype=object)
        for start, chunk in self._chunks(X_items):
            for offset, ids in enumerate(self._decode(self._source_ids(chunk, start))):
                outputs[start + offset] = self._output(ids)
        return outputs

    def score(self, X, y):
        """Exact-match accuracy: the fraction of outputs equal to ``y``.

        Parameters
        ----------
        X : sequence of str or of list of str
        y : sequence of str or of list of str

        Returns
        -------
        float
        """
        check_is_fitted(self)
        y_items, _ = check_text_sequences(y, "y")
        return sequence_accuracy(y_items, self.predict(X))

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.two_d_array = False
        tags.input_tags.string = True
        tags.target_tags.required = True
        return tags

    # -- hooks of the fit and load templates ---------------------------------

    def _check_params_together(self):
        super()._check_params_together()
        ARCHITECTURES[self.architecture].check_params(self)

    def _prepare_data(self, X, y, encoding):
        X_items, y_items, target_is_text = check_pairs(X, y)
        if encoding is None:
            tokenizers = make_tokenizers(
                self.source_tokenizer,
                self.target_tokenizer,
                target_is_text,
                X_items,
                y_items,
                self.subword_vocabulary_size,
            )
        elif target_is_text != encoding["target_is_text_"]:
            raise ValueError(
                "warm_start=True continues the fitted network, which was "
                f"trained on y given as {_form(encoding['target_is_text_'])}, "
                f"but y is given as {_form(target_is_text)}; give y in the same "
                "form, or set warm_start=False."
            )
        else:
            tokenizers = encoding["source_tokenizer_"], encoding["target_tokenizer_"]
        tokens = tokenize_pairs(X_items, y_items, *tokenizers)
        if encoding is None:
            encoding = learn_encoding(
                *tokens,
                tokenizers,
                target_is_text,
                min_frequency=self.min_frequency,
                max_vocabulary_size=self.max_vocabulary_size,
                max_output_length=self.max_output_length,
            )
        dataset = SequencePairDataset(*pair_ids(*tokens, encoding))
        return encoding, TrainingData(dataset)

    def _module_params(self, encoding):
        return ARCHITECTURES[self.architecture].module_params(self, encoding)

    def _make_net(self, module_params, encoding, seed, device):
        architecture = ARCHITECTURES[self.architecture]
        callbacks, closing = [], []
        if self.validation_fraction is not None:
            # First: the schedule and early stopping read what it records.
            decoding = ValidationDecoding(
                encoding["max_output_length_"], self.predict_batch_size
            )
            callbacks = [("validation_decoding", decoding), *callbacks]
            if self.average_checkpoints > 1:
                averaging = CheckpointAveraging(
                    self.average_checkpoints, "valid_error", decoding.error
                )
                closing = [("checkpoint_averaging", averaging)]
        return NeuralNet(
            module=architecture.module,
            **{f"module__{name}": value for name, value in module_params.items()},
            criterion=SequenceLoss,
            criterion__label_smoothing=self.label_smoothing,
            **self._skorch_params(
                seed,
                device,
                callbacks=callbacks,
                schedule=architecture.schedule(self),
                closing_callbacks=closing,
            ),
        )

    def _settings_to_json(self):
        params = super()._settings_to_json()
        for name in _TOKENIZERS:
            if is_subword_tokenizer(params[name]):
                # Its own JSON, so that load gives the same parameter back.
                params[name] = {_SUBWORD_SETTING: params[name].to_str()}
            elif not isinstance(params[name], str):
                params[name] = None  # given again to load
        return params

    @classmethod
    def _settings_from_json(cls, params, path):
        params = super()._settings_from_json(params, path)
        # Files from before these parameters existed hold input-feeding
        # decoders trained in float32.
        params.setdefault("input_feeding", True)
        params.setdefault("precision", "float32")
        for name in _TOKENIZERS:
            value = params.get(name, "")
            if value is None:
                raise ValueError(
                    f"The model was trained with a custom {name}, which cannot be "
                    f"stored safely; pass it again: load(path, {name}=...)."
                )
            if isinstance(value, dict) and set(value) == {_SUBWORD_SETTING}:
                params[name] = subword_from_json(
                    value[_SUBWORD_SETTING], "tokenizers", f"{path!r}'s {name}"
                ).subword
        return params

    def _encoding_to_config(self, encoding):
        return encoding_to_config(encoding)

    def _encoding_from_config(self, config):
        return encoding_from_config(
            config, self.source_tokenizer, self.target_tokenizer
        )

    # -- inference ----------------------------------------------------------

    def _chunks(self, items):
        """Consecutive slices of the input, so that inference streams.

        Tokens, ids and decoded outputs exist for one chunk at a time, which
        keeps the memory of ``predict`` near that of one chunk plus the
        output however long the input is.
        """
        size = _CHUNK_BATCHES * self.predict_batch_size
        chunks = chunk_slices(len(items), size)
        for chunk in progress(chunks, self.verbose, type(self).__name__):
            yield chunk.start, items[chunk]

    def _source_tokens(self, X_items, offset):
        return tokenize_items(
            X_items, self.source_tokenizer_, "X", offset, require_tokens=True
        )

    def _source_ids(self, X_items, offset):
        return [
            self.source_vocab_.encode(tokens)
            for tokens in self._source_tokens(X_items, offset)
        ]

    def _output(self, ids):
        """A decoded output in the form ``y`` had: a string or a token list."""
        return decode_output(
            ids, self.target_vocab_, self.target_tokenizer_, self.target_is_text_
        )

    def _decode(self, source_ids):
        return decode(
            self.module_,
            source_ids,
            batch_size=self.predict_batch_size,
            max_length=self.max_output_length_,
            beam_size=self.beam_size,
            length_penalty=self.length_penalty,
        )


def _form(target_is_text):
    return "strings" if target_is_text else "token lists"
