"""AttentionSeq2Seq: the scikit-learn estimator around the torch network."""

import math
from functools import partial
from numbers import Integral, Real

import numpy as np
import torch
from sklearn.base import BaseEstimator, _fit_context
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted
from skorch import NeuralNet
from skorch.callbacks import LRScheduler

from .._attention import ATTENTION_SCORES
from .._persistence import (
    load_model_file,
    loaded_device,
    save_model_file,
    settings_from_json,
    settings_to_json,
)
from .._sequences import bucket_loader, sorted_batches
from .._text import BOS, Vocabulary, check_text_sequences, make_tokenizer
from .._training import (
    TRAINING_CONSTRAINTS,
    check_device,
    make_callbacks,
    make_optimizer,
    make_train_split,
    progress,
    seeded,
    torch_seed,
)
from ..metrics import sequence_accuracy
from ._data import SequencePairDataset, collate_sources
from ._model import Seq2SeqModule, SequenceLoss
from ._search import beam_search, greedy_search, strip_after_end
from ._transformer import TransformerSeq2SeqModule

__all__ = ["AttentionSeq2Seq"]

# predict and attention_weights work through the input this many decoding
# batches at a time.
_CHUNK_BATCHES = 16

_TOKENIZER_CONSTRAINT = [StrOptions({"char", "word"}), callable, tuple]


class AttentionSeq2Seq(BaseEstimator):
    """Sequence-to-sequence learning with attention, on plain strings.

    An encoder reads each source sequence; a decoder writes the output one
    token at a time, attending at every step over all encoder outputs with
    a learned softmax (the attention weights). Two architectures: a
    recurrent encoder-decoder that feeds its attentional vector back in at
    the next step (the default), or a Transformer, built of multi-head
    self-attention and cross-attention. Training runs on skorch with teacher
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
    embedding_dim : int, default=64
        RNN only. Size of the token embeddings (source and target); the
        Transformer's embeddings have ``hidden_size`` features.
    hidden_size : int, default=128
        RNN: size of the encoder outputs and of the decoder state; with
        ``bidirectional=True`` each encoder direction has ``hidden_size // 2``
        units (so it must be even). Transformer: the model size (embeddings
        and every layer's output), a multiple of ``num_heads``.
    attention_size : int, default=None
        RNN only. Hidden size of the scoring network of ``"additive"`` and
        ``"gated"`` attention; None uses ``hidden_size``.
    num_layers : int, default=1
        Layers of the encoder and of the decoder: recurrent layers, or
        Transformer blocks.
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
    dropout : float, default=0.1
        RNN: on embeddings, between layers and before the output layer.
        Transformer: on embeddings, on the output of every block and inside
        the feed-forward blocks.
    attention_dropout : float, default=0.0
        Both architectures. Dropout on the attention weights during
        training: each step randomly ignores some of the steps it attends
        to. ``attention_weights`` always reports the undropped weights.
    label_smoothing : float, default=0.0
        Both architectures. The training targets put this much probability
        mass uniformly over the vocabulary instead of all of it on the true
        token (Szegedy et al. 2016), which discourages over-confident
        outputs.
    source_tokenizer, target_tokenizer : "char", "word", callable or \
            (callable, callable), default="char"
        How strings are split into tokens: characters, whitespace-separated
        words, a callable ``str -> list of str``, or a ``(tokenize,
        detokenize)`` pair. When ``y`` holds strings the target tokenizer must
        be able to join tokens back, so a bare callable is refused there.
        Ignored for inputs given as token lists.
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
    max_epochs : int, default=20
        Passes over the training data (early stopping may end sooner).
    batch_size : int, default=64
        Sequences per training batch. Batches group sequences of similar
        length, shuffled, so that padding costs little.
    predict_batch_size : int, default=256
        Sequences decoded at once by ``predict`` and ``attention_weights``.
    lr : float, default=1e-3
        Learning rate (for the Transformer, its peak; see ``warmup_steps``).
    warmup_steps : int, default=200
        Transformer only. The learning rate rises linearly from 0 to ``lr``
        over this many batches, then decays as the inverse square root of
        the batch number (Vaswani et al. 2017, Eq. 3), through skorch's
        ``LRScheduler``; 0 keeps ``lr`` constant. A warm-started ``fit``
        starts the schedule again.
    optimizer : {"adam", "adamw", "sgd"} or torch optimizer class, \
            default="adam"
    validation_fraction : float or None, default=0.1
        Fraction of the training data held out to compute ``valid_loss``
        each epoch; None trains on everything.
    early_stopping : bool, default=True
        Stop when ``valid_loss`` has not improved for ``n_iter_no_change``
        epochs and restore the best weights (skorch's ``EarlyStopping``).
        Needs ``validation_fraction``.
    n_iter_no_change : int, default=5
        Patience of early stopping, in epochs.
    gradient_clip : float or None, default=1.0
        Clip the gradient norm to this value (skorch's
        ``GradientNormClipping``); None disables clipping.
    callbacks : list of skorch callbacks, default=None
        Extra callbacks (e.g. ``Checkpoint``, ``LRScheduler``,
        ``ProgressBar``), run after the defaults above.
    warm_start : bool, default=False
        When True, a second ``fit`` continues training the fitted network
        (with the vocabularies learned in the first fit) instead of starting
        again.
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
    net_ : skorch.NeuralNet
        The trained skorch net; ``net_.module_`` is the torch network.
    history_ : skorch.History
        Per-epoch training record (``train_loss``, ``valid_loss``, ...).
    source_vocab_, target_vocab_ : Vocabulary
        Token <-> id maps learned in ``fit``.
    target_is_text_ : bool
        Whether ``y`` held strings (so ``predict`` returns strings) or token
        lists (so it returns token lists).
    max_output_length_ : int
        The output bound used by ``predict``.

    See Also
    --------
    AttentionPooling : attention over the steps of a sequence of vectors.
    sk_attention.plot_attention : draw the attention weights of a prediction.

    Notes
    -----
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
        "architecture": [StrOptions({"rnn", "transformer"})],
        "attention": [StrOptions(set(ATTENTION_SCORES))],
        "cell": [StrOptions({"lstm", "gru"})],
        "embedding_dim": [Interval(Integral, 1, None, closed="left")],
        "hidden_size": [Interval(Integral, 1, None, closed="left")],
        "attention_size": [Interval(Integral, 1, None, closed="left"), None],
        "num_layers": [Interval(Integral, 1, None, closed="left")],
        "bidirectional": ["boolean"],
        "num_heads": [Interval(Integral, 1, None, closed="left")],
        "feedforward_size": [Interval(Integral, 1, None, closed="left"), None],
        "positional_encoding": [StrOptions({"sinusoidal", "learned"})],
        "dropout": [Interval(Real, 0, 1, closed="left")],
        "attention_dropout": [Interval(Real, 0, 1, closed="left")],
        "label_smoothing": [Interval(Real, 0, 1, closed="left")],
        "warmup_steps": [Interval(Integral, 0, None, closed="left")],
        "source_tokenizer": _TOKENIZER_CONSTRAINT,
        "target_tokenizer": _TOKENIZER_CONSTRAINT,
        "min_frequency": [Interval(Integral, 1, None, closed="left")],
        "max_vocabulary_size": [Interval(Integral, 1, None, closed="left"), None],
        "beam_size": [Interval(Integral, 1, None, closed="left")],
        "length_penalty": [Interval(Real, 0, None, closed="left")],
        "max_output_length": [Interval(Integral, 1, None, closed="left"), None],
        "predict_batch_size": [Interval(Integral, 1, None, closed="left")],
        **TRAINING_CONSTRAINTS,
    }

    def __init__(
        self,
        *,
        architecture="rnn",
        attention="additive",
        cell="lstm",
        embedding_dim=64,
        hidden_size=128,
        attention_size=None,
        num_layers=1,
        bidirectional=True,
        num_heads=4,
        feedforward_size=None,
        positional_encoding="sinusoidal",
        dropout=0.1,
        attention_dropout=0.0,
        label_smoothing=0.0,
        source_tokenizer="char",
        target_tokenizer="char",
        min_frequency=1,
        max_vocabulary_size=None,
        beam_size=1,
        length_penalty=1.0,
        max_output_length=None,
        max_epochs=20,
        batch_size=64,
        predict_batch_size=256,
        lr=1e-3,
        warmup_steps=200,
        optimizer="adam",
        validation_fraction=0.1,
        early_stopping=True,
        n_iter_no_change=5,
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
        self.label_smoothing = label_smoothing
        self.source_tokenizer = source_tokenizer
        self.target_tokenizer = target_tokenizer
        self.min_frequency = min_frequency
        self.max_vocabulary_size = max_vocabulary_size
        self.beam_size = beam_size
        self.length_penalty = length_penalty
        self.max_output_length = max_output_length
        self.max_epochs = max_epochs
        self.batch_size = batch_size
        self.predict_batch_size = predict_batch_size
        self.lr = lr
        self.warmup_steps = warmup_steps
        self.optimizer = optimizer
        self.validation_fraction = validation_fraction
        self.early_stopping = early_stopping
        self.n_iter_no_change = n_iter_no_change
        self.gradient_clip = gradient_clip
        self.callbacks = callbacks
        self.warm_start = warm_start
        self.device = device
        self.random_state = random_state
        self.verbose = verbose

    # -- scikit-learn API ---------------------------------------------------

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y):
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
        self._check_architecture_params()
        device = check_device(self.device)
        X_items, _ = check_text_sequences(X, "X")
        y_items, target_is_text = check_text_sequences(y, "y")
        if len(X_items) != len(y_items):
            raise ValueError(
                f"X and y must hold the same number of sequences, got "
                f"{len(X_items)} and {len(y_items)}."
            )
        continuing = self.warm_start and hasattr(self, "net_")
        if not continuing:
            self._make_tokenizers(target_is_text)
        source_tokens = self._source_tokens(X_items)
        target_tokens = self._tokens(y_items, self.target_tokenizer_, "y")
        if not continuing:
            self._learn_text_state(source_tokens, target_tokens, target_is_text)
        source_ids = [self.source_vocab_.encode(tokens) for tokens in source_tokens]
        target_ids = [self.target_vocab_.encode(tokens) for tokens in target_tokens]
        seed = torch_seed(self.random_state)
        with seeded(seed, device):
            if continuing:
                self.net_.partial_fit(SequencePairDataset(source_ids, target_ids))
            else:
                self.net_ = self._make_net(seed, device)
                self.net_.fit(SequencePairDataset(source_ids, target_ids))
        self.history_ = self.net_.history
        return self

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
                tokens = self.target_vocab_.decode(ids)
                outputs[start + offset] = (
                    self.target_tokenizer_.detokenize(tokens)
                    if self.target_is_text_
                    else tokens
                )
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

    def attention_weights(self, X, *, return_tokens=False, all_heads=False):
        """The attention of each predicted token over the source tokens.

        Each prediction is decoded as by :meth:`predict`, then the decoder is
        run once more over its own output to record, at every output step,
        the softmax weights over the source steps. For the Transformer these
        are the cross-attention weights of the last decoder layer, averaged
        over its heads.

        Parameters
        ----------
        X : sequence of str or of list of str
        return_tokens : bool, default=False
            Also return the source tokens and the predicted tokens.
        all_heads : bool, default=False
            Transformer only: return the cross-attention of every decoder
            layer and head, arrays of shape ``(num_layers, num_heads,
            n_output_tokens, n_source_tokens)``.

        Returns
        -------
        list of ndarray of shape (n_output_tokens, n_source_tokens)
            One array per sample; each row sums to 1. With
            ``return_tokens=True``, a list of ``(weights, source_tokens,
            output_tokens)`` tuples.
        """
        if all_heads and self.architecture != "transformer":
            raise ValueError(
                "all_heads=True needs architecture='transformer'; the recurrent "
                "model has one attention per step."
            )
        check_is_fitted(self)
        X_items, _ = check_text_sequences(X, "X")
        results = []
        for start, chunk in self._chunks(X_items):
            source_tokens = self._source_tokens(chunk, start)
            source_ids = [self.source_vocab_.encode(t) for t in source_tokens]
            predicted = self._decode(source_ids)
            weights = self._forced_attention(source_ids, predicted, all_heads)
            if return_tokens:
                weights = [
                    (w, tokens, self.target_vocab_.decode(ids))
                    for w, tokens, ids in zip(weights, source_tokens, predicted)
                ]
            results.extend(weights)
        return results

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.two_d_array = False
        tags.input_tags.string = True
        tags.target_tags.required = True
        # CUDA kernels (e.g. RNN backward) are not bit-reproducible.
        tags.non_deterministic = str(self.device).startswith("cuda")
        return tags

    # -- persistence --------------------------------------------------------

    def save(self, path):
        """Save the fitted model to one file that loading never unpickles.

        The file is a safetensors file: the network's tensors, plus JSON
        metadata with the hyper-parameters, vocabularies and format version.
        Custom tokenizers cannot be saved safely, so :meth:`load` asks for
        them. Settings that only matter for training and cannot be saved
        safely (callbacks, optimizer classes outside ``torch.optim``, a
        ``RandomState``) are stored as their defaults, with a warning.

        Parameters
        ----------
        path : str or os.PathLike
        """
        check_is_fitted(self)
        params = settings_to_json(self)
        for name in ("source_tokenizer", "target_tokenizer"):
            if not isinstance(params[name], str):
                params[name] = None  # given again to load
        config = {
            "params": params,
            "source_vocab": self.source_vocab_.tokens,
            "target_vocab": self.target_vocab_.tokens,
            "target_is_text": self.target_is_text_,
            "max_output_length": self.max_output_length_,
            "max_positions": self._max_positions,
        }
        save_model_file(
            path,
            estimator=type(self).__name__,
            config=config,
            state_dict=self.net_.module_.state_dict(),
        )

    @classmethod
    def load(cls, path, **params):
        """Load a model written by :meth:`save`; nothing is unpickled.

        Parameters
        ----------
        path : str or os.PathLike
        **params
            Hyper-parameters to set on the loaded model, e.g.
            ``device="cpu"``, or the custom tokenizers that could not be
            saved. A model saved on a GPU loads on the CPU (with a warning)
            when CUDA is not available and no device is given.

        Returns
        -------
        AttentionSeq2Seq
        """
        config, state_dict = load_model_file(path, estimator=cls.__name__)
        saved = settings_from_json(config["params"])
        saved.update(params)
        saved["device"] = loaded_device(path, saved["device"], params)
        for name in ("source_tokenizer", "target_tokenizer"):
            if saved[name] is None:
                raise ValueError(
                    f"The model was trained with a custom {name}, which cannot be "
                    f"stored safely; pass it again: load(path, {name}=...)."
                )
        model = cls(**saved)
        model._validate_params()  # a crafted file must not bypass validation
        model._make_tokenizers(config["target_is_text"])
        model._set_text_state(
            Vocabulary(config["source_vocab"]),
            Vocabulary(config["target_vocab"]),
            config["target_is_text"],
            config["max_output_length"],
            config["max_positions"],
        )
        device = check_device(model.device)
        model.net_ = model._make_net(torch_seed(model.random_state), device)
        model.net_.initialize()
        try:
            model.net_.module_.load_state_dict(state_dict)
        except RuntimeError as error:
            raise ValueError(
                f"The tensors in {path!r} do not fit the saved configuration: {error}"
            ) from None
        model.history_ = model.net_.history
        return model

    # -- internals ----------------------------------------------------------

    def _make_tokenizers(self, target_is_text):
        """The fitted tokenizers, from the tokenizer parameters."""
        self.source_tokenizer_ = make_tokenizer(
            self.source_tokenizer, "source_tokenizer"
        )
        self.target_tokenizer_ = make_tokenizer(
            self.target_tokenizer, "target_tokenizer"
        )
        if target_is_text and self.target_tokenizer_.detokenize is None:
            raise ValueError(
                "target_tokenizer must be able to join tokens back into strings "
                "when y holds strings: pass 'char', 'word' or a (tokenize, "
                "detokenize) pair, or give y as token lists."
            )

    def _learn_text_state(self, source_tokens, target_tokens, target_is_text):
        """Vocabularies and output bounds from the tokenized training data."""
        vocab_options = dict(
            min_frequency=self.min_frequency, max_size=self.max_vocabulary_size
        )
        longest = max(len(tokens) for tokens in target_tokens)
        bound = self.max_output_length or 2 * longest + 1
        longest_source = max(len(tokens) for tokens in source_tokens)
        self._set_text_state(
            Vocabulary.build(source_tokens, **vocab_options),
            Vocabulary.build(target_tokens, **vocab_options),
            target_is_text,
            bound,
            max(2 * longest_source, bound),
        )

    def _set_text_state(
        self, source_vocab, target_vocab, target_is_text, bound, max_positions
    ):
        self.source_vocab_ = source_vocab
        self.target_vocab_ = target_vocab
        self.target_is_text_ = target_is_text
        self.max_output_length_ = bound
        # The learned position table of the Transformer has this many rows.
        self._max_positions = max_positions

    @staticmethod
    def _tokens(items, tokenizer, argument, offset=0):
        """Token lists for validated items (strings are tokenized).

        ``offset`` is the index of ``items[0]`` in the user's input, so that
        errors about a chunk name the right sample.
        """
        if not items or not isinstance(items[0], str):
            return items
        token_lists = []
        for index, text in enumerate(items, offset):
            tokens = tokenizer.tokenize(text)
            if not isinstance(tokens, (list, tuple)) or not all(
                isinstance(token, str) for token in tokens
            ):
                raise TypeError(
                    f"The tokenizer returned {type(tokens).__name__} for "
                    f"{argument}[{index}]; it must return a list of strings."
                )
            token_lists.append(list(tokens))
        return token_lists

    def _source_tokens(self, X_items, offset=0):
        """Source token lists; an empty one is an error naming its sample."""
        tokens = self._tokens(X_items, self.source_tokenizer_, "X", offset)
        for index, sequence in enumerate(tokens, offset):
            if not sequence:
                raise ValueError(
                    f"X[{index}] has no tokens; every source sequence needs at "
                    "least one."
                )
        return tokens

    def _source_ids(self, X_items, offset=0):
        return [
            self.source_vocab_.encode(tokens)
            for tokens in self._source_tokens(X_items, offset)
        ]

    def _check_architecture_params(self):
        """Checks that depend on the architecture (run in ``fit``)."""
        if self.architecture == "transformer":
            if self.hidden_size % self.num_heads:
                raise ValueError(
                    f"hidden_size must be a multiple of num_heads with "
                    f"architecture='transformer' (each head gets an equal "
                    f"share), got hidden_size={self.hidden_size} and "
                    f"num_heads={self.num_heads}."
                )
            return
        if self.bidirectional and self.hidden_size % 2:
            raise ValueError(
                f"hidden_size must be even when bidirectional=True (each "
                f"direction gets half), got {self.hidden_size}."
            )

    def _module_params(self):
        common = {
            "module__source_vocab_size": len(self.source_vocab_),
            "module__target_vocab_size": len(self.target_vocab_),
            "module__num_layers": self.num_layers,
            "module__dropout": self.dropout,
        }
        if self.architecture == "transformer":
            return {
                **common,
                "module__model_size": self.hidden_size,
                "module__num_heads": self.num_heads,
                "module__feedforward_size": (
                    self.feedforward_size or 4 * self.hidden_size
                ),
                "module__attention_dropout": self.attention_dropout,
                "module__positional_encoding": self.positional_encoding,
                "module__max_positions": self._max_positions,
            }
        return {
            **common,
            "module__embedding_dim": self.embedding_dim,
            "module__hidden_size": self.hidden_size,
            "module__bidirectional": self.bidirectional,
            "module__cell": self.cell,
            "module__attention": self.attention,
            "module__attention_size": self.attention_size or self.hidden_size,
            "module__attention_dropout": self.attention_dropout,
        }

    def _make_net(self, seed, device):
        transformer = self.architecture == "transformer"
        callbacks = make_callbacks(self)
        if transformer and self.warmup_steps:
            schedule = LRScheduler(
                policy=torch.optim.lr_scheduler.LambdaLR,
                lr_lambda=partial(_warmup_factor, warmup_steps=self.warmup_steps),
                step_every="batch",
            )
            callbacks = [("warmup", schedule), *callbacks]
        return NeuralNet(
            module=TransformerSeq2SeqModule if transformer else Seq2SeqModule,
            criterion=SequenceLoss,
            criterion__label_smoothing=self.label_smoothing,
            optimizer=make_optimizer(self.optimizer),
            lr=self.lr,
            max_epochs=self.max_epochs,
            batch_size=self.batch_size,
            iterator_train=bucket_loader,
            iterator_train__shuffle=True,
            iterator_valid=bucket_loader,
            train_split=make_train_split(self.validation_fraction, seed),
            callbacks=callbacks,
            device=str(device),
            verbose=self.verbose,
            **self._module_params(),
        )

    def _chunks(self, items):
        """Consecutive slices of the input, so that inference streams.

        Tokens, ids and decoded outputs exist for one chunk at a time, which
        keeps the memory of ``predict`` near that of one chunk plus the
        output however long the input is.
        """
        size = _CHUNK_BATCHES * self.predict_batch_size
        starts = range(0, len(items), size)
        for start in progress(starts, self.verbose, type(self).__name__):
            yield start, items[start : start + size]

    def _forced_attention(self, source_ids, predicted, all_heads):
        """Attention weights of the decoder run over its own predictions."""
        weights = [None] * len(source_ids)
        for batch, inputs in self._batches(source_ids):
            targets = [np.array([BOS, *predicted[i]], dtype=np.int64) for i in batch]
            inputs["target_input"] = collate_sources(targets)["source"].to(
                inputs["source"].device
            )
            with torch.inference_mode():
                _, batch_weights = self.net_.module_(
                    **inputs, need_weights="all" if all_heads else True
                )  # (batch, [layers, heads,] tgt_len, src_len)
            batch_weights = batch_weights.cpu().numpy()
            for row, index in enumerate(batch):
                n_out, n_src = len(predicted[index]), len(source_ids[index])
                # A copy, so that no result keeps its whole batch alive.
                weights[index] = batch_weights[row, ..., :n_out, :n_src].copy()
        return weights

    def _batches(self, source_ids):
        """Length-sorted batches of sources, collated onto the net's device."""
        lengths = [len(ids) for ids in source_ids]
        device = self.net_.device
        for batch in sorted_batches(lengths, self.predict_batch_size):
            inputs = collate_sources([source_ids[i] for i in batch])
            yield batch, {name: t.to(device) for name, t in inputs.items()}

    def _decode(self, source_ids):
        """Decoded target ids (end token stripped) for each source."""
        module = self.net_.module_
        module.eval()
        decoded = [None] * len(source_ids)
        with torch.inference_mode():
            for batch, inputs in self._batches(source_ids):
                memory = module.encode(inputs["source"], inputs["source_lengths"])
                if self.beam_size == 1:
                    ids = greedy_search(module, memory, self.max_output_length_)
                else:
                    ids = beam_search(
                        module,
                        memory,
                        self.max_output_length_,
                        self.beam_size,
                        self.length_penalty,
                    )
                for index, row in zip(batch, strip_after_end(ids.cpu())):
                    decoded[index] = row
        return decoded


def _warmup_factor(step, warmup_steps):
    """Linear warm-up, then inverse square-root decay; 1 at ``warmup_steps``.

    ``step`` counts the batches done (0 at the first batch).

    Examples
    --------
    >>> [round(_warmup_factor(s, warmup_steps=4), 2) for s in (0, 3, 15)]
    [0.25, 1.0, 0.5]
    """
    step += 1
    return min(step / warmup_steps, math.sqrt(warmup_steps / step))
