"""The pooling family's hooks into the shared estimator base, and inference.

:class:`BaseAttentionPooling` is what the three pooling estimators share on
top of :class:`~sk_attention._base.AttentionEstimator`: the parameters, the
input, the network, the chunked inference and ``attention_weights``; with
the mixin for standardized regression targets and the file form of the
fitted classes.
"""

import warnings
from functools import partial
from numbers import Integral, Real

import numpy as np
import torch
from numpy.typing import ArrayLike
from sklearn.utils._param_validation import Hidden, Interval, StrOptions
from sklearn.utils.validation import check_is_fitted
from skorch import NeuralNet

from .._attention import ATTENTION_SCORES
from .._base import AUTO, AttentionEstimator, TrainingData, _is_auto
from .._text import Vocabulary, check_text_sequences, make_tokenizer
from .._training import progress
from ._auto import (
    AUTO_RULES,
    batch_order_params,
    embedding_param_groups,
    text_embedding_dim,
)
from ._data import PoolingDataset, scaling_statistics
from ._encoders import SEQUENCE_ENCODERS, encoder_class
from ._input import (
    INPUT_LAYOUTS,
    check_numeric_input,
    is_text_input,
    learn_vocabulary,
    pretrained_rows,
    token_sequences,
)
from ._model import AttentionPoolingNet, MeanQueryPooling, PoolingLoss
from ._ngrams import check_subword_ngrams
from ._recipe import keep_best_callbacks, learning_rate_schedule

__all__ = ["BaseAttentionPooling"]

# Inference runs in chunks of about this many (step x width) values: on a CPU,
# whole-batch intermediates of a large input are slower than cache-sized
# chunks (benchmarks/bench_pooling.py); a GPU wants larger ones.
_CHUNK_ELEMENTS = 2**19
_GPU_CHUNK_ELEMENTS = 2**24

#: Deprecated parameter values -> what they mean now, with the warning.
_DOT_DEPRECATION = (
    "attention='dot' in the pooling estimators is the scaled dot product and "
    "is renamed 'scaled_dot' (the name AttentionSeq2Seq uses for it); 'dot' "
    "will be removed from the pooling estimators in version 0.3. Use "
    "attention='scaled_dot'."
)
_N_HEADS_DEPRECATION = (
    "n_heads is renamed num_heads (the name AttentionSeq2Seq uses) and will be "
    "removed in version 0.3; use num_heads={value}."
)


class BaseAttentionPooling(AttentionEstimator):
    """Input, network and inference of the pooling family."""

    _parameter_constraints: dict = {
        **AttentionEstimator._parameter_constraints,
        "hidden_layer_sizes": [
            "array-like",
            Interval(Integral, 1, None, closed="left"),
        ],
        "attention": [StrOptions({*ATTENTION_SCORES, "mean", AUTO})],
        "num_heads": [Interval(Integral, 1, None, closed="left")],
        "n_heads": [
            Interval(Integral, 1, None, closed="left"),
            Hidden(StrOptions({"deprecated"})),
        ],
        "attention_size": [Interval(Integral, 1, None, closed="left")],
        "dropout": [Interval(Real, 0, 1, closed="left"), StrOptions({AUTO})],
        "scaling": [
            StrOptions({"global", "feature", "series", "series_and_global", AUTO}),
            None,
        ],
        "max_epochs": [Interval(Integral, 1, None, closed="left"), StrOptions({AUTO})],
        "batch_size": [Interval(Integral, 1, None, closed="left"), StrOptions({AUTO})],
        "lr_schedule": [StrOptions({"constant", "cosine", "plateau", AUTO})],
        "keep_best": ["boolean", StrOptions({AUTO})],
        "encoder": [StrOptions(set(SEQUENCE_ENCODERS)), None],
        "encoder_size": [Interval(Integral, 1, None, closed="left")],
        "encoder_layers": [Interval(Integral, 1, None, closed="left")],
        "kernel_size": [Interval(Integral, 1, None, closed="left")],
        "encoder_heads": [Interval(Integral, 1, None, closed="left")],
        "attention_penalty": [Interval(Real, 0, None, closed="left")],
        "label_smoothing": [Interval(Real, 0, 1, closed="left")],
        "input_layout": [StrOptions(set(INPUT_LAYOUTS))],
        "tokenizer": [StrOptions({"char", "word", "wordpunct"}), callable],
        "embedding_dim": [Interval(Integral, 1, None, closed="left")],
        "min_frequency": [Interval(Integral, 1, None, closed="left")],
        "max_vocabulary_size": [Interval(Integral, 1, None, closed="left"), None],
        "pretrained_embeddings": [tuple, list, None],
        "subword_ngrams": [tuple, list, None],
        "linear_ngrams": [Interval(Integral, 1, None, closed="left"), None],
        "embedding_lr": [Interval(Real, 0, None, closed="neither")],
    }
    # Settings resolved from the data when "auto", in the order of their
    # rules (_auto.py): text, numeric sequences and bags, one table.
    _auto_rules = AUTO_RULES
    for _name in AUTO_RULES:
        if not any(
            isinstance(option, StrOptions) and AUTO in option.options
            for option in _parameter_constraints[_name]
        ):
            _parameter_constraints[_name] = [
                *_parameter_constraints[_name], StrOptions({AUTO})
            ]
    del _name

    _encoding_attributes = (
        "n_features_in_",
        "tokenizer_",
        "vocabulary_",
        "_task",
        "_n_outputs",
    )


    def __init__(
        self,
        *,
        encoder=None,
        encoder_size=AUTO,
        encoder_layers=2,
        kernel_size=5,
        encoder_heads=4,
        hidden_layer_sizes=(64, 64),
        attention="auto",
        num_heads=1,
        n_heads="deprecated",
        attention_size=64,
        dropout="auto",
        attention_penalty=0.0,
        label_smoothing="auto",
        scaling="auto",
        input_layout="steps_first",
        tokenizer="word",
        embedding_dim="auto",
        min_frequency=1,
        max_vocabulary_size=None,
        pretrained_embeddings=None,
        subword_ngrams=None,
        linear_ngrams="auto",
        embedding_lr="auto",
        max_epochs="auto",
        batch_size="auto",
        lr=1e-3,
        lr_schedule="auto",
        keep_best="auto",
        optimizer="adam",
        validation_fraction="auto",
        early_stopping="auto",
        n_iter_no_change="auto",
        gradient_clip=None,
        max_time=None,
        callbacks=None,
        warm_start=False,
        device="cpu",
        random_state=None,
        verbose=0,
    ):
        self.encoder = encoder
        self.encoder_size = encoder_size
        self.encoder_layers = encoder_layers
        self.kernel_size = kernel_size
        self.encoder_heads = encoder_heads
        self.hidden_layer_sizes = hidden_layer_sizes
        self.attention = attention
        self.num_heads = num_heads
        self.n_heads = n_heads
        self.attention_size = attention_size
        self.dropout = dropout
        self.attention_penalty = attention_penalty
        self.label_smoothing = label_smoothing
        self.scaling = scaling
        self.input_layout = input_layout
        self.tokenizer = tokenizer
        self.embedding_dim = embedding_dim
        self.min_frequency = min_frequency
        self.max_vocabulary_size = max_vocabulary_size
        self.pretrained_embeddings = pretrained_embeddings
        self.subword_ngrams = subword_ngrams
        self.linear_ngrams = linear_ngrams
        self.embedding_lr = embedding_lr
        self.max_epochs = max_epochs
        self.batch_size = batch_size
        self.lr = lr
        self.lr_schedule = lr_schedule
        self.keep_best = keep_best
        self.optimizer = optimizer
        self.validation_fraction = validation_fraction
        self.early_stopping = early_stopping
        self.n_iter_no_change = n_iter_no_change
        self.gradient_clip = gradient_clip
        self.max_time = max_time
        self.callbacks = callbacks
        self.warm_start = warm_start
        self.device = device
        self.random_state = random_state
        self.verbose = verbose

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.two_d_array = True  # read as univariate sequences
        tags.input_tags.three_d_array = True
        tags.input_tags.string = True  # texts or token lists, with y
        return tags

    # -- hooks of the fit and load templates ---------------------------------

    def _check_target(self, y, n_samples, fitted):
        """Return ``(target_encoding, y_train)``.

        ``target_encoding`` holds ``_task`` ("classification", "regression"
        or None), ``_n_outputs`` and the class's own encoding of ``y``;
        ``fitted`` is the fitted encoding of a warm start, or None.
        """
        raise NotImplementedError

    def _check_params_together(self):
        super()._check_params_together()
        self._hidden_layer_sizes()
        check_subword_ngrams(self.subword_ngrams)
        # An "auto" width is checked in fit, once resolved.
        resolved = not _is_auto(self.encoder_size)
        if self.encoder == "transformer" and resolved and (
            self.encoder_size % self.encoder_heads
        ):
            raise ValueError(
                "encoder='transformer' splits encoder_size among encoder_heads, so "
                f"encoder_size ({self.encoder_size}) must be a multiple of "
                f"encoder_heads ({self.encoder_heads})."
            )
        if self.attention == "dot":
            warnings.warn(_DOT_DEPRECATION, FutureWarning, stacklevel=5)
        heads = self.num_heads if self.n_heads == "deprecated" else self.n_heads
        if self.attention == "mean" and heads > 1:
            raise ValueError(
                "attention='mean' weighs every step the same, so every head "
                f"would pool the same vector; num_heads must be 1, got {heads}."
            )
        if self.n_heads != "deprecated":
            warnings.warn(
                _N_HEADS_DEPRECATION.format(value=self.n_heads),
                FutureWarning,
                stacklevel=5,
            )

    def _prepare_data(self, X, y, encoding):
        text = is_text_input(X)
        if encoding is None:
            inputs, text_encoding = self._learn_input(X, text)
        else:
            text_encoding = {
                name: encoding[name]
                for name in ("n_features_in_", "tokenizer_", "vocabulary_")
            }
            inputs = self._read_input(X, text_encoding)
        target_encoding, y_train = self._check_target(y, len(inputs), encoding)
        task = target_encoding["_task"]
        if encoding is not None and task != encoding["_task"]:
            raise ValueError(
                f"warm_start=True continues the fitted network, which learned a "
                f"{encoding['_task']} target, but y is a {task} target; set "
                "warm_start=False to train a new network."
            )
        if task is None and (text or self.encoder is not None):
            raise ValueError(
                "AttentionPooling.fit(X) without y uses the parameter-free "
                "attention, which pools numeric steps as they are; "
                + ("text input" if text else f"encoder={self.encoder!r}")
                + " needs y to learn from. Pass y, or numeric X with encoder=None."
            )
        new_encoding = {**text_encoding, **target_encoding}
        if text:
            prepare = self._pretrained_initializer(text_encoding["vocabulary_"])
        else:
            prepare = partial(_set_scaling, steps=inputs.flat)
        if task is None:
            return new_encoding, TrainingData(None, prepare_module=prepare)
        stratify = y_train if task == "classification" else None
        dataset = PoolingDataset(inputs, y_train)
        return new_encoding, TrainingData(dataset, stratify, prepare)

    def _learn_input(self, X, text):
        """``(inputs, encoding)`` of the input part of a new fit."""
        if not text:
            inputs = check_numeric_input(X, self.input_layout)
            encoding = {"n_features_in_": inputs.n_features}
            return inputs, {**encoding, "tokenizer_": None, "vocabulary_": None}
        self._check_text_layout()
        items, _ = check_text_sequences(X, "X")
        tokenizer, vocabulary, tokens = learn_vocabulary(
            items,
            self.tokenizer,
            min_frequency=self.min_frequency,
            max_vocabulary_size=self.max_vocabulary_size,
        )
        inputs = token_sequences(
            items, tokenizer, vocabulary, tokens, self._subword_ngrams()
        )
        encoding = {"tokenizer_": tokenizer, "vocabulary_": vocabulary}
        return inputs, {"n_features_in_": None, **encoding}

    def _read_input(self, X, encoding):
        """New input read the way the fitted input was: a :class:`RaggedArray`."""
        text = is_text_input(X)
        fitted_text = encoding["vocabulary_"] is not None
        if text != fitted_text:
            raise ValueError(
                f"{type(self).__name__} was fitted on "
                f"{_input_form(fitted_text)}, but X holds {_input_form(text)}."
            )
        if text:
            self._check_text_layout()
            return token_sequences(
                X, encoding["tokenizer_"], encoding["vocabulary_"],
                subword_ngrams=self._subword_ngrams(),
            )
        return check_numeric_input(
            X, self.input_layout, n_features=encoding["n_features_in_"]
        )

    def _check_text_layout(self):
        if self.input_layout != "steps_first":
            raise ValueError(
                f"input_layout={self.input_layout!r} says where the time axis of "
                "numeric samples is; text has none. Leave "
                "input_layout='steps_first' for text input."
            )

    def _pretrained_initializer(self, vocabulary):
        """What starts a new text network's embedding, as ``prepare_module``;
        checks ``pretrained_embeddings`` before anything is trained."""
        if self.pretrained_embeddings is None:
            return None
        ids, vectors = pretrained_rows(
            vocabulary, self.pretrained_embeddings, text_embedding_dim(self)
        )
        return partial(_set_embedding_rows, ids=ids, vectors=vectors)

    def _subword_ngrams(self):
        """``(min_n, max_n, buckets)``, or None without subword n-grams."""
        return check_subword_ngrams(self.subword_ngrams)

    def _hidden_layer_sizes(self):
        sizes = self.hidden_layer_sizes
        sizes = (sizes,) if isinstance(sizes, Integral) else tuple(sizes)
        if not all(isinstance(s, Integral) and s >= 1 for s in sizes):
            raise ValueError(
                "hidden_layer_sizes must be positive integers, got "
                f"{self.hidden_layer_sizes!r}."
            )
        return tuple(int(s) for s in sizes)

    def _module_params(self, encoding):
        # The deprecated spellings keep their meaning until they are removed.
        attention = "scaled_dot" if self.attention == "dot" else self.attention
        heads = self.num_heads if self.n_heads == "deprecated" else self.n_heads
        sizes = {
            "hidden_layer_sizes": self._hidden_layer_sizes(),
            "dropout": self.dropout,
            **{name: getattr(self, name) for name in _ENCODER_SIZES},
        }
        # Only the sizes the encoder uses: another one changes no network.
        declared = encoder_class(self.encoder).estimator_parameters
        params = {
            "n_features": encoding["n_features_in_"] or 1,
            "n_outputs": encoding["_n_outputs"],
            "attention": attention,
            "num_heads": heads,
            "attention_size": self.attention_size,
            "dropout": self.dropout,
            **{name: value for name, value in sizes.items() if name in declared},
        }
        if self.encoder is not None:
            params["encoder"] = self.encoder
        if encoding["vocabulary_"] is not None:
            params["vocabulary_size"] = len(encoding["vocabulary_"])
            params["embedding_dim"] = self.embedding_dim
            if self.subword_ngrams is not None:
                params["subword_ngrams"] = self._subword_ngrams()
            if self.linear_ngrams is not None:
                params["linear_ngrams"] = self.linear_ngrams
        else:
            params["scaling"] = self.scaling
        if self.attention_penalty:
            params["attention_penalty"] = self.attention_penalty
        return params

    def _make_net(self, module_params, encoding, seed, device):
        classification = encoding["_task"] == "classification"
        return NeuralNet(
            module=AttentionPoolingNet,
            **{f"module__{name}": value for name, value in module_params.items()},
            criterion=PoolingLoss,
            criterion__task=encoding["_task"],
            criterion__label_smoothing=self.label_smoothing,
            **self._skorch_params(
                seed,
                device,
                stratified=classification,
                callbacks=keep_best_callbacks(self),
                schedule=learning_rate_schedule(self),
            ),
            **embedding_param_groups(self, encoding),
            **batch_order_params(self, encoding),
        )

    def _trains(self, encoding):
        return encoding["_task"] is not None

    def _untrained_module(self, encoding):
        return MeanQueryPooling(encoding["n_features_in_"], self.scaling)

    def _settings_to_json(self):
        params = super()._settings_to_json()
        if not isinstance(params["hidden_layer_sizes"], Integral):
            params["hidden_layer_sizes"] = [
                int(s) for s in params["hidden_layer_sizes"]
            ]
        if not isinstance(params["tokenizer"], str):
            params["tokenizer"] = None  # given again to load
        # The vectors live on in the saved embedding; only a new fit needs them.
        params["pretrained_embeddings"] = None
        return params

    @classmethod
    def _settings_from_json(cls, params, path):
        params = super()._settings_from_json(params, path)
        # Files written before the training recipe trained as it did then.
        params.setdefault("lr_schedule", "constant")
        params.setdefault("keep_best", False)
        params.setdefault("label_smoothing", 0.0)
        params.setdefault("linear_ngrams", None)
        for name in ("hidden_layer_sizes", "subword_ngrams"):
            if isinstance(params.get(name), list):
                params[name] = tuple(params[name])
        if params.get("tokenizer", "") is None:
            raise ValueError(
                "The model was trained with a custom tokenizer, which cannot be "
                "stored safely; pass it again: load(path, tokenizer=...)."
            )
        return params

    def _encoding_to_config(self, encoding):
        vocabulary = encoding["vocabulary_"]
        n_features = encoding["n_features_in_"]
        return {
            "n_features_in": None if n_features is None else int(n_features),
            "vocabulary": None if vocabulary is None else vocabulary.tokens,
            "task": encoding["_task"],
            "n_outputs": encoding["_n_outputs"],
            "fitted": self._target_to_config(encoding),
        }

    def _encoding_from_config(self, config):
        # Files written before text input (format < 1.2) have no vocabulary.
        before_text = config.format_version in ("1.0", "1.1")
        tokens = config.get(
            "vocabulary", (list, None), **({"default": None} if before_text else {})
        )
        if tokens is not None and not all(isinstance(t, str) for t in tokens):
            raise ValueError(
                f"{config.path!r} holds a vocabulary that is not a list of strings."
            )
        text = tokens is not None
        return {
            "n_features_in_": config.get("n_features_in", (int, None)),
            "tokenizer_": make_tokenizer(self.tokenizer, "tokenizer") if text else None,
            "vocabulary_": Vocabulary(tokens) if text else None,
            "_task": config.get("task", (str, None)),
            "_n_outputs": config.get("n_outputs", (int, None)),
            **self._target_from_config(config),
        }

    def _target_to_config(self, encoding):
        """The class's own encoding of ``y``, JSON-able."""
        return {}

    def _target_from_config(self, config):
        """Inverse of :meth:`_target_to_config`."""
        return {}

    # -- inference ---------------------------------------------------------

    def _check_fitted_sequences(self, X):
        check_is_fitted(self)
        return self._read_input(X, self._fitted_encoding())

    def _stream(self, sequences, output):
        """Yield ``(index, lengths, values)`` per chunk of ``sequences``.

        ``output`` is "pooled" (``(b, n_pooled)``), "weights" (``(b,
        num_heads, n_steps)``) or "scores", the prediction head's ``(b,
        n_outputs)``. Runs under :func:`torch.inference_mode` on bounded
        chunks.
        """
        module = self.module_.eval()
        device = next(iter(module.state_dict().values())).device
        elements = _CHUNK_ELEMENTS if device.type == "cpu" else _GPU_CHUNK_ELEMENTS
        with torch.inference_mode():
            chunks = sequences.chunks(module.step_width, elements * module.chunk_scale)
            for index, batch, lengths in progress(
                chunks, self.verbose, type(self).__name__
            ):
                batch = torch.from_numpy(batch).to(device)  # (b, n_steps, F)
                lengths_t = torch.from_numpy(lengths).to(device)  # (b,)
                pooled, weights = module.pool(batch, lengths_t, output == "weights")
                values = {"pooled": pooled, "weights": weights}.get(output)
                if output == "scores":
                    values = module.scores(pooled, batch, lengths_t)  # (b, n_outputs)
                yield index, lengths, values.cpu().numpy()

    def _predict_scores(self, X):
        """The head's raw outputs, ``(n_samples, n_outputs)`` float64."""
        sequences = self._check_fitted_sequences(X)
        out = np.empty((len(sequences), self._n_outputs), dtype=np.float64)
        for index, _, scores in self._stream(sequences, "scores"):
            out[index] = scores
        return out

    def attention_weights(self, X: ArrayLike) -> list[np.ndarray]:
        """The attention weights each sample's steps receive.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_steps, n_features), list of
            arrays of shape (n_steps_i, n_features), or texts
            In the layout of ``fit`` (``input_layout``); texts are split
            by the fitted tokenizer.

        Returns
        -------
        weights : list of ndarray of shape (num_heads, n_steps_i), float32
            ``n_steps_i`` is the number of steps (time points, tokens).
            One array per sample; each row sums to 1. Without a target (the
            parameter-free attention) there is one row.
        """
        sequences = self._check_fitted_sequences(X)
        result = [None] * len(sequences)
        for index, lengths, weights in self._stream(sequences, "weights"):
            rows = range(len(result))[index] if isinstance(index, slice) else index
            for row, (sample, length) in enumerate(zip(rows, lengths)):
                result[sample] = weights[row, :, :length].copy()
        return result


def _set_scaling(module, steps):
    """Give a new module the input scaling its ``scaling`` learns from the
    training steps."""
    standardize = module.standardize
    standardize.set_statistics(*scaling_statistics(steps, standardize.scaling))


def _set_embedding_rows(module, ids, vectors):
    """Start a new module's token embedding from pretrained vectors."""
    with torch.no_grad():
        module.tokens.weight[torch.from_numpy(ids)] = torch.from_numpy(vectors)


def _input_form(text):
    return "text (strings or token lists)" if text else "numeric sequences"


#: The sequence encoders' size parameters, passed to those that declare them.
_ENCODER_SIZES = ("encoder_size", "encoder_layers", "kernel_size", "encoder_heads")
