"""The attention pooling estimators: a transformer, a classifier, a regressor.

All three share :class:`_BaseAttentionPooling`: input validation, the skorch
wiring, batched inference, ``attention_weights`` and the safe model file.
They differ only in how they read ``y`` and what they return.
"""

import os
from numbers import Integral, Real
from typing import TypeVar

import numpy as np
import scipy.sparse as sp
import torch
from numpy.typing import ArrayLike
from sklearn.base import (
    BaseEstimator,
    ClassifierMixin,
    ClassNamePrefixFeaturesOutMixin,
    RegressorMixin,
    TransformerMixin,
    _fit_context,
)
from sklearn.utils import assert_all_finite
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.multiclass import check_classification_targets, type_of_target
from sklearn.utils.validation import check_array, check_is_fitted, column_or_1d
from skorch import NeuralNet
from skorch.history import History

from .._persistence import (
    load_model_file,
    loaded_device,
    save_model_file,
    settings_from_json,
    settings_to_json,
)
from .._sequences import bucket_loader, check_ragged_array
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
from ._model import POOLING_SCORES, AttentionPoolingNet, MeanQueryPooling

__all__ = [
    "AttentionPooling",
    "AttentionPoolingClassifier",
    "AttentionPoolingRegressor",
]

# Inference runs in chunks of about this many (step x width) values: on a CPU,
# whole-batch intermediates of a large input are slower than cache-sized
# chunks (benchmarks/bench_pooling.py); a GPU wants larger ones.
_CHUNK_ELEMENTS = 2**19
_GPU_CHUNK_ELEMENTS = 2**24

_Estimator = TypeVar("_Estimator", bound="_BaseAttentionPooling")

_CLASSIFICATION = ("binary", "multiclass")
_REGRESSION = ("continuous", "continuous-multioutput")


class _Sequences:
    """Validated sequences stored flat, with vectorised batch gathering.

    Parameters
    ----------
    flat : ndarray of shape (total_steps, n_features), float32
        All steps of all sequences, one after another.
    lengths : ndarray of shape (n_samples,), int64
    """

    def __init__(self, flat, lengths):
        self.flat = flat
        self.lengths = lengths
        self.offsets = np.cumsum(lengths) - lengths
        self.max_length = int(lengths.max())
        # Equal lengths: batches are slices of a 3-D view, no gathering.
        self.dense = None
        if (lengths == self.max_length).all():
            self.dense = flat.reshape(len(lengths), self.max_length, -1)

    def __len__(self):
        return len(self.lengths)

    @property
    def n_features(self):
        return self.flat.shape[1]

    def gather(self, indices):
        """Pad the sequences at ``indices`` into one ``(b, max_len, F)`` array."""
        lengths = self.lengths[indices]
        if self.dense is not None:
            return self.dense[indices], lengths
        steps = np.arange(lengths.max())
        real = steps[None, :] < lengths[:, None]  # (b, max_len)
        rows = np.where(real, self.offsets[indices][:, None] + steps, 0)
        batch = self.flat[rows]  # (b, max_len, n_features)
        batch[~real] = 0.0
        return batch, lengths

    def chunks(self, width, elements):
        """Inference batches: ``(index, X, lengths)`` of bounded size.

        A batch holds about ``elements`` values per ``width`` of a step.
        ``index`` is a slice (equal lengths, in order) or an integer array
        (ragged input, grouped by length so that little is padded).
        """
        if self.dense is not None:
            rows = max(1, elements // (self.max_length * width))
            for start in range(0, len(self), rows):
                index = slice(start, start + rows)
                yield index, self.dense[index], self.lengths[index]
            return
        order = np.argsort(-self.lengths, kind="stable")
        start = 0
        while start < len(order):
            longest = self.lengths[order[start]]
            rows = max(1, elements // (longest * width))
            index = order[start : start + rows]
            yield (index, *self.gather(index))
            start += rows


def _check_sequences(X, n_features=None):
    """Validate ``X`` into float32 :class:`_Sequences`; ``X`` is never written.

    Dense numeric arrays take a vectorised path; anything else, and any
    invalid array, goes through :func:`check_ragged_array`, which names the
    offending sample.
    """
    if sp.issparse(X):
        raise TypeError(
            "X is a sparse matrix; sparse input is not supported. Pass a dense "
            "3-D array, a list of 2-D arrays or a dense 2-D array."
        )
    if hasattr(X, "to_numpy") and not isinstance(X, np.ndarray):
        X = X.to_numpy()  # DataFrames: one univariate sequence per row
    elif not isinstance(X, (list, tuple, np.ndarray)) and hasattr(X, "__array__"):
        X = np.asarray(X)
    if isinstance(X, np.ndarray) and X.dtype.kind in "biuf" and X.ndim < 2:
        raise ValueError(
            "X must be 3-D (n_samples, n_steps, n_features), a list of 2-D arrays "
            f"or 2-D (univariate sequences); got a {X.ndim}-D array of shape "
            f"{X.shape}. Reshape your data: X.reshape(1, -1) if it is one "
            "univariate sequence."
        )
    if isinstance(X, np.ndarray) and X.dtype.kind in "biuf" and X.ndim in (2, 3):
        dense = X if X.ndim == 3 else X[:, :, None]
        n_samples, n_steps, n_found = dense.shape
        if n_samples and n_steps and n_found and n_features in (None, n_found):
            with np.errstate(over="ignore"):  # float32 overflow is caught below
                values = np.ascontiguousarray(dense, dtype=np.float32)
            if np.isfinite(values).all():
                if not values.flags.writeable:
                    values = values.copy()  # torch refuses read-only buffers
                lengths = np.full(n_samples, n_steps, dtype=np.int64)
                return _Sequences(values.reshape(-1, n_found), lengths)
    sequences = check_ragged_array(X, name="X", n_features=n_features)
    lengths = np.array([len(s) for s in sequences], dtype=np.int64)
    return _Sequences(np.concatenate(sequences), lengths)


class _PoolingDataset(torch.utils.data.Dataset):
    """Training data for skorch; batches are padded in one gather.

    ``__getitems__`` hands the batch's indices straight to :meth:`collate`
    (also through :class:`torch.utils.data.Subset`), so no per-sample Python
    work is done. ``lengths`` lets :func:`bucket_loader` group similar
    lengths.
    """

    def __init__(self, sequences, y):
        self.sequences = sequences
        self.y = y
        self.lengths = sequences.lengths

    def __len__(self):
        return len(self.sequences)

    def __getitem__(self, index):
        return index

    def __getitems__(self, indices):
        return indices

    def collate(self, indices):
        indices = np.asarray(indices)
        X, lengths = self.sequences.gather(indices)
        inputs = {"X": torch.from_numpy(X), "lengths": torch.from_numpy(lengths)}
        return inputs, torch.from_numpy(self.y[indices])


_PARAMETERS_DOC = """
    hidden_layer_sizes : int or tuple of int, default=(64, 64)
        Widths of the MLP (linear + ReLU) applied to every step before
        pooling. ``()`` pools the (standardized) input features themselves.
    attention : {"additive", "gated", "dot"}, default="gated"
        The scoring rule. ``"additive"``: ``w^T tanh(V h_i + U q)`` (Ilse et
        al., 2018, Eq. 8, with a learned query ``q`` per head);
        ``"gated"``: ``w^T (tanh(V h_i + U q) * sigmoid(G h_i))`` (Eq. 9);
        ``"dot"``: ``h_i . q / sqrt(d)`` (scaled dot product with a learned
        query).
    n_heads : int, default=1
        Number of attention heads; their pooled vectors are concatenated.
        Heads share the key projection and differ by their learned query.
    attention_size : int, default=64
        Hidden width of the additive and gated scoring networks (unused by
        ``"dot"``).
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
        If True and already fitted on data of the same shape, ``fit``
        continues training the existing network for ``max_epochs`` epochs.
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

_INPUT_DOC = """
    ``X`` is a 3-D array ``(n_samples, n_steps, n_features)``, a list of 2-D
    arrays ``(n_steps_i, n_features)`` of varying length, or a 2-D array
    read as ``n_samples`` univariate sequences. Ragged input is padded and
    masked internally: padding steps get weight exactly zero, so a sequence
    gives the same output alone or in any batch. Values are computed in
    float32, standardized as ``scaling`` says. Pooling ignores the order of
    the steps.
"""


class _BaseAttentionPooling(BaseEstimator):
    """Validation, skorch wiring, inference and persistence shared by all."""

    _parameter_constraints: dict = {
        "hidden_layer_sizes": [
            "array-like",
            Interval(Integral, 1, None, closed="left"),
        ],
        "attention": [StrOptions(set(POOLING_SCORES))],
        "n_heads": [Interval(Integral, 1, None, closed="left")],
        "attention_size": [Interval(Integral, 1, None, closed="left")],
        "dropout": [Interval(Real, 0, 1, closed="left")],
        "scaling": [StrOptions({"global", "feature"}), None],
        **TRAINING_CONSTRAINTS,
    }

    def __init__(
        self,
        *,
        hidden_layer_sizes=(64, 64),
        attention="gated",
        n_heads=1,
        attention_size=64,
        dropout=0.2,
        scaling="global",
        max_epochs=100,
        batch_size=32,
        lr=1e-3,
        optimizer="adam",
        validation_fraction=None,
        early_stopping=False,
        n_iter_no_change=10,
        gradient_clip=None,
        callbacks=None,
        warm_start=False,
        device="cpu",
        random_state=None,
        verbose=0,
    ):
        self.hidden_layer_sizes = hidden_layer_sizes
        self.attention = attention
        self.n_heads = n_heads
        self.attention_size = attention_size
        self.dropout = dropout
        self.scaling = scaling
        self.max_epochs = max_epochs
        self.batch_size = batch_size
        self.lr = lr
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

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.two_d_array = True  # read as univariate sequences
        tags.input_tags.three_d_array = True
        # GPU kernels may reorder floating-point sums between runs.
        tags.non_deterministic = not str(self.device).startswith("cpu")
        return tags

    # -- fitting -----------------------------------------------------------

    def _check_target(self, y, n_samples):
        """Return ``(task, y_train, n_outputs)`` for the module and loss.

        ``task`` is "classification", "regression" or None (no target);
        fitted state describing ``y`` is set here.
        """
        raise NotImplementedError

    def _fit(self, X, y):
        sequences = _check_sequences(X)
        task, y_train, n_outputs = self._check_target(y, len(sequences))
        device = check_device(self.device)
        hidden = self._hidden_layer_sizes()
        mean, scale = _scaling_statistics(sequences.flat, self.scaling)

        if task is None:
            net = None
            module = MeanQueryPooling(sequences.n_features).to(device)
            module.standardize.set_statistics(mean, scale)
        else:
            seed = torch_seed(self.random_state)
            dataset = _PoolingDataset(sequences, y_train)
            module_params = self._module_params(sequences.n_features, n_outputs, hidden)
            with seeded(seed, device):
                if self._continues(task, module_params):
                    net = self.net_
                    net.set_params(max_epochs=self.max_epochs, lr=self.lr)
                else:
                    net = self._make_net(task, module_params, seed)
                    net.initialize()
                    net.module_.standardize.set_statistics(mean, scale)
                # skorch's split stratifies on y; the dataset carries y itself.
                net.partial_fit(dataset, y_train if task == "classification" else None)
            module = net.module_
        self.n_features_in_ = sequences.n_features
        self._task = task
        self._n_outputs = n_outputs
        self.net_ = net
        self.history_ = None if net is None else net.history
        self.module_ = module
        return self

    def _hidden_layer_sizes(self):
        sizes = self.hidden_layer_sizes
        sizes = (sizes,) if isinstance(sizes, Integral) else tuple(sizes)
        if not all(isinstance(s, Integral) and s >= 1 for s in sizes):
            raise ValueError(
                "hidden_layer_sizes must be positive integers, got "
                f"{self.hidden_layer_sizes!r}."
            )
        return tuple(int(s) for s in sizes)

    def _continues(self, task, module_params):
        """Whether ``warm_start`` can continue training the fitted network.

        Only if the task and the network's shape are unchanged.
        """
        return (
            self.warm_start
            and getattr(self, "net_", None) is not None
            and self._task == task
            and self.net_.get_params_for("module") == module_params
        )

    def _module_params(self, n_features, n_outputs, hidden):
        return {
            "n_features": n_features,
            "n_outputs": n_outputs,
            "hidden_layer_sizes": hidden,
            "attention": self.attention,
            "n_heads": self.n_heads,
            "attention_size": self.attention_size,
            "dropout": self.dropout,
        }

    def _make_net(self, task, module_params, seed):
        classification = task == "classification"
        return NeuralNet(
            module=AttentionPoolingNet,
            **{f"module__{k}": v for k, v in module_params.items()},
            criterion=torch.nn.CrossEntropyLoss if classification else torch.nn.MSELoss,
            optimizer=make_optimizer(self.optimizer),
            lr=self.lr,
            max_epochs=self.max_epochs,
            batch_size=self.batch_size,
            iterator_train=bucket_loader,
            iterator_train__shuffle=True,
            iterator_valid=bucket_loader,
            train_split=make_train_split(
                self.validation_fraction, seed, stratified=classification
            ),
            callbacks=make_callbacks(self),
            device=str(check_device(self.device)),
            verbose=self.verbose,
        )

    # -- inference ---------------------------------------------------------

    def __sklearn_is_fitted__(self):
        # Fitted state is set in steps; the network is the last of it.
        return hasattr(self, "module_")

    def _check_fitted_sequences(self, X):
        check_is_fitted(self)
        return _check_sequences(X, n_features=self.n_features_in_)

    def _stream(self, sequences, output):
        """Yield ``(index, lengths, values)`` per chunk of ``sequences``.

        ``output`` is "pooled" (``(b, n_pooled)``), "weights" (``(b, n_heads,
        n_steps)``) or "scores", the prediction head's ``(b, n_outputs)``.
        Runs under :func:`torch.inference_mode` on bounded chunks.
        """
        module = self.module_.eval()
        device = next(iter(module.buffers())).device
        elements = _CHUNK_ELEMENTS if device.type == "cpu" else _GPU_CHUNK_ELEMENTS
        with torch.inference_mode():
            chunks = sequences.chunks(module.step_width, elements)
            for index, batch, lengths in progress(
                chunks, self.verbose, type(self).__name__
            ):
                batch = torch.from_numpy(batch).to(device)  # (b, n_steps, F)
                lengths_t = torch.from_numpy(lengths).to(device)  # (b,)
                pooled, weights = module.pool(batch, lengths_t, output == "weights")
                values = {"pooled": pooled, "weights": weights}.get(output)
                if output == "scores":
                    values = module.head(pooled)  # (b, n_outputs)
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
        X : array-like of shape (n_samples, n_steps, n_features), or list of
            arrays of shape (n_steps_i, n_features)

        Returns
        -------
        weights : list of ndarray of shape (n_heads, n_steps_i), float32
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

    # -- persistence -------------------------------------------------------

    def save(self, path: str | os.PathLike) -> None:
        """Write the fitted model to ``path`` in a format that never unpickles.

        One safetensors file: the network's tensors plus a JSON document with
        the hyper-parameters and fitted state. A ``torch.optim`` optimizer
        class is stored by name. Settings that only matter for training and
        cannot be saved safely (callbacks, other optimizer classes, a
        ``RandomState``) are stored as their defaults, with a warning.

        Parameters
        ----------
        path : str or os.PathLike
        """
        check_is_fitted(self)
        params = settings_to_json(self)
        if not isinstance(params["hidden_layer_sizes"], Integral):
            params["hidden_layer_sizes"] = [
                int(s) for s in params["hidden_layer_sizes"]
            ]
        config = {
            "params": params,
            "n_features_in": int(self.n_features_in_),
            "task": self._task,
            "n_outputs": self._n_outputs,
            "fitted": self._fitted_state(),
            "history": None if self.history_ is None else self.history_.to_list(),
        }
        save_model_file(
            path,
            estimator=type(self).__name__,
            config=config,
            state_dict=self.module_.state_dict(),
        )

    @classmethod
    def load(cls: type[_Estimator], path: str | os.PathLike, **params) -> _Estimator:
        """Load a model written by :meth:`save`; nothing is unpickled.

        Parameters
        ----------
        path : str or os.PathLike
        **params
            Hyper-parameters to set on the loaded model, e.g.
            ``device="cpu"``, or callbacks that could not be saved. A model
            saved on a GPU loads on the CPU (with a warning) when CUDA is not
            available and no device is given.

        Returns
        -------
        estimator
            A fitted estimator of this class.

        Raises
        ------
        ValueError
            If the file is not a model of this class, holds invalid
            settings (checked like constructor arguments), or tensors that
            do not fit its configuration.
        """
        config, state_dict = load_model_file(path, estimator=cls.__name__)
        try:
            saved = settings_from_json(config["params"])
            n_features, task = config["n_features_in"], config["task"]
            n_outputs, fitted = config["n_outputs"], config["fitted"]
            history = config["history"]
        except (KeyError, TypeError) as error:
            raise ValueError(
                f"{path!r} lacks part of the model configuration: {error}"
            ) from None
        if isinstance(saved.get("hidden_layer_sizes"), list):
            saved["hidden_layer_sizes"] = tuple(saved["hidden_layer_sizes"])
        saved.update(params)
        saved["device"] = loaded_device(path, saved.get("device"), params)
        try:
            estimator = cls(**saved)
        except TypeError as error:
            raise ValueError(f"{path!r} holds unknown settings: {error}") from None
        estimator._validate_params()  # a file's settings are checked like arguments
        device = check_device(estimator.device)
        try:
            if task is None:
                net, module = None, MeanQueryPooling(n_features)
            else:
                module_params = estimator._module_params(
                    n_features, n_outputs, estimator._hidden_layer_sizes()
                )
                net = estimator._make_net(task, module_params, seed=0)
                with seeded(0, device):  # leave the caller's torch RNG untouched
                    net.initialize()
                net.history = History(history or [])
                module = net.module_
            module.load_state_dict(state_dict)
            estimator._task, estimator._n_outputs = task, n_outputs
            estimator._restore_fitted_state(fitted)
        except (RuntimeError, KeyError, TypeError, ValueError) as error:
            raise ValueError(
                f"The tensors in {path!r} do not fit the saved configuration: {error}"
            ) from None
        estimator.n_features_in_ = n_features
        estimator.net_ = net
        estimator.history_ = None if net is None else net.history
        estimator.module_ = module.to(device)
        return estimator

    def _fitted_state(self):
        """JSON-safe fitted state that describes ``y``."""
        return {}

    def _restore_fitted_state(self, state):
        """Inverse of :meth:`_fitted_state`."""


def _scaling_statistics(steps, scaling):
    """Per-feature ``(mean, scale)`` of the training steps for ``scaling``."""
    n_features = steps.shape[1]
    if scaling is None:
        return np.zeros(n_features), np.ones(n_features)
    if scaling == "feature":
        mean = steps.mean(axis=0, dtype=np.float64)
        scale = steps.std(axis=0, dtype=np.float64)
    else:
        mean = np.full(n_features, steps.mean(dtype=np.float64))
        scale = np.full(n_features, steps.std(dtype=np.float64))
    scale[scale < 10 * np.finfo(np.float32).eps] = 1.0  # constant values
    return mean, scale


class _RegressionTargetMixin:
    """Targets standardized for training, restored at prediction."""

    def _check_regression_target(self, y):
        try:
            y = np.asarray(y, dtype=np.float64)
        except (TypeError, ValueError) as error:
            raise TypeError(f"y must hold numbers for regression: {error}") from None
        if y.ndim not in (1, 2):
            raise ValueError(f"y must be 1-D or 2-D, got shape {y.shape}.")
        y = check_array(y, ensure_2d=False, input_name="y", ensure_min_samples=1)
        two_d = y.ndim == 2
        y = y.reshape(len(y), -1)
        with np.errstate(over="ignore", invalid="ignore"):  # reported below
            mean, scale = y.mean(axis=0), y.std(axis=0)
        if not (np.isfinite(mean).all() and np.isfinite(scale).all()):
            raise ValueError(
                "y holds values too large to standardize (their mean or standard "
                "deviation overflows float64); rescale y."
            )
        scale[scale == 0] = 1.0
        self._y_2d, self._y_mean, self._y_scale = two_d, mean, scale
        y_train = ((y - self._y_mean) / self._y_scale).astype(np.float32)
        return "regression", y_train, y.shape[1]

    def _regression_state(self):
        return {
            "y_2d": bool(self._y_2d),
            "y_mean": self._y_mean.tolist(),
            "y_scale": self._y_scale.tolist(),
        }

    def _restore_regression_state(self, state):
        self._y_2d = state["y_2d"]
        self._y_mean = np.asarray(state["y_mean"], dtype=np.float64)
        self._y_scale = np.asarray(state["y_scale"], dtype=np.float64)


def _check_n_samples(y, n_samples):
    """Return ``y`` once it is known to hold one target per sample."""
    if not hasattr(y, "__len__") and hasattr(y, "__array__"):
        y = np.asarray(y)
    try:
        n_labels = len(y) if not isinstance(y, (str, bytes)) else None
    except TypeError:  # scalars, 0-d arrays
        n_labels = None
    if n_labels is None:
        raise ValueError(
            f"y must hold one target per sample, got {type(y).__name__} {y!r}."
        )
    if n_labels != n_samples:
        raise ValueError(
            f"X has {n_samples} samples but y has {n_labels}; they must match."
        )
    return y


def _check_finite_labels(y):
    """Reject missing (None, NaN) or infinite labels before they are cast.

    NumPy would turn a NaN among strings into the string "nan", a class.
    """
    try:
        values = np.asarray(y)
    except ValueError as error:  # ragged nesting
        raise ValueError(f"y must be an array of targets: {error}") from None
    if values.dtype.kind == "f":
        assert_all_finite(values, input_name="y")
    elif values.dtype.kind in "OUS":
        for index, value in enumerate(np.asarray(y, dtype=object).ravel()):
            if value is None or (isinstance(value, float) and not np.isfinite(value)):
                raise ValueError(
                    f"y[{index}] is {value!r}; every sample needs a target."
                )


def _encode_classes(y):
    """``classes_`` and integer codes, refusing a single class."""
    try:
        classes, codes = np.unique(y, return_inverse=True)
    except TypeError as error:
        raise TypeError(
            f"y mixes labels that cannot be compared with each other ({error}); "
            "use labels of one type."
        ) from None
    if len(classes) < 2:
        raise ValueError(
            f"y has 1 class ({classes[0]!r}); a classifier needs at least 2 classes."
        )
    return classes, codes.astype(np.int64)


class AttentionPooling(
    ClassNamePrefixFeaturesOutMixin,
    TransformerMixin,
    _RegressionTargetMixin,
    _BaseAttentionPooling,
):
    __doc__ = f"""Pool each sample's sequence of vectors into one vector with attention.

    A transformer for a Pipeline: ``fit(X, y)`` learns the attention from
    ``y`` through a small prediction head (classification when
    :func:`~sklearn.utils.multiclass.type_of_target` finds "binary" or
    "multiclass", regression for "continuous"), trained with skorch;
    ``transform`` returns the attention-weighted mean of the per-step
    embeddings, one block of columns per head.

    ``fit(X)`` without ``y`` trains nothing: each sequence is pooled with a
    parameter-free attention whose query is the sequence's own mean. With
    ``z_i`` the step scaled as ``scaling`` says and ``m`` their mean over the
    sequence, ``alpha_i = softmax_i(z_i . m / sqrt(n_features))`` and
    ``transform`` returns ``sum_i alpha_i x_i`` in the units of the input,
    ``n_features`` columns. Steps that lean the way the whole sequence
    departs from the training average weigh more; a sequence near that
    average pools to its plain mean.
    {_INPUT_DOC}
    Parameters
    ----------{_PARAMETERS_DOC}
    Attributes
    ----------
    n_features_in_ : int
        Features per step seen in ``fit``.
    target_type_ : str or None
        What ``type_of_target`` found in ``y``; None when fitted without y.
    module_ : torch.nn.Module
        The pooling network: a step embedding, learned attention and a
        prediction head, or without y the parameter-free pooling.
    net_ : skorch.NeuralNet or None
        The trained skorch net; None when fitted without y.
    history_ : skorch.History or None
        Per-epoch losses; None when fitted without y.

    See Also
    --------
    AttentionPoolingClassifier : The same network predicting classes.
    AttentionPoolingRegressor : The same network predicting numbers.

    References
    ----------
    M. Ilse, J. Tomczak and M. Welling, "Attention-based deep multiple
    instance learning", ICML 2018.

    Examples
    --------
    >>> import numpy as np
    >>> from sk_attention import AttentionPooling
    >>> rng = np.random.RandomState(0)
    >>> X = rng.normal(size=(40, 6, 3))
    >>> y = (X[:, :, 0].max(axis=1) > 1).astype(int)
    >>> pool = AttentionPooling(hidden_layer_sizes=(8,), max_epochs=2,
    ...                         random_state=0).fit(X, y)
    >>> pool.transform(X).shape
    (40, 8)
    >>> pool.attention_weights(X[:2])[0].shape
    (1, 6)
    >>> AttentionPooling().fit(X).transform([X[0], X[1, :3]]).shape
    (2, 3)
    """

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.transformer_tags.preserves_dtype = ["float32"]
        return tags

    def _check_target(self, y, n_samples):
        self.target_type_ = None
        if y is None:
            return None, None, None
        y = _check_n_samples(y, n_samples)
        _check_finite_labels(y)
        try:
            target_type = type_of_target(y, input_name="y")
        except (TypeError, ValueError) as error:
            raise type(error)(f"y cannot be used as a target: {error}") from None
        self.target_type_ = target_type
        if target_type in _CLASSIFICATION:
            y = column_or_1d(y, warn=True)
            _, codes = _encode_classes(y)
            return "classification", codes, int(codes.max()) + 1
        if target_type in _REGRESSION:
            return self._check_regression_target(y)
        what = "Unknown label type" if target_type == "unknown" else "Unsupported"
        raise ValueError(
            f"{what} target for y: type_of_target(y) is {target_type!r}; "
            "AttentionPooling learns from a binary, multiclass or continuous "
            "(possibly multi-output) target."
        )

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X: ArrayLike, y: ArrayLike | None = None) -> "AttentionPooling":
        """Learn the attention from ``y``, or the parameter-free pooling.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_steps, n_features), or list of
            arrays of shape (n_steps_i, n_features)
        y : array-like of shape (n_samples,) or (n_samples, n_targets), \
default=None
            Class labels or numbers; None uses the parameter-free attention.

        Returns
        -------
        self : AttentionPooling
        """
        return self._fit(X, y)

    def transform(self, X: ArrayLike) -> np.ndarray:
        """Pool each sequence into one vector.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_steps, n_features), or list of
            arrays of shape (n_steps_i, n_features)

        Returns
        -------
        X_pooled : ndarray of shape (n_samples, n_outputs), float32
            ``n_outputs`` is ``n_heads * embedding width`` after a supervised
            fit, ``n_features`` after ``fit(X)``.
        """
        sequences = self._check_fitted_sequences(X)
        out = np.empty((len(sequences), self._n_features_out), dtype=np.float32)
        for index, _, pooled in self._stream(sequences, "pooled"):
            out[index] = pooled
        return out

    @property
    def _n_features_out(self):
        return self.module_.n_pooled

    def _fitted_state(self):
        state = {"target_type": self.target_type_}
        if self._task == "regression":
            state.update(self._regression_state())
        return state

    def _restore_fitted_state(self, state):
        self.target_type_ = state["target_type"]
        if self._task == "regression":
            self._restore_regression_state(state)


class AttentionPoolingClassifier(ClassifierMixin, _BaseAttentionPooling):
    __doc__ = f"""Classify sequences, bags or sets of vectors with attention pooling.

    Each step is embedded by an MLP, the steps are pooled with learned
    attention (one or more heads), and a linear layer predicts the class:
    attention-based multiple-instance learning (Ilse et al., 2018) and
    order-free time-series classification. Trained with skorch on the
    cross-entropy loss; binary and multiclass, any label type.
    {_INPUT_DOC}
    Parameters
    ----------{_PARAMETERS_DOC}
    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        The labels seen in ``fit``.
    n_features_in_ : int
        Features per step seen in ``fit``.
    module_ : torch.nn.Module
        The trained network: step embedding, attention, prediction head.
    net_ : skorch.NeuralNet
        The skorch net that trained it.
    history_ : skorch.History
        Per-epoch losses.

    See Also
    --------
    AttentionPooling : The pooled vectors as features for another model.
    AttentionPoolingRegressor : The same network predicting numbers.

    References
    ----------
    M. Ilse, J. Tomczak and M. Welling, "Attention-based deep multiple
    instance learning", ICML 2018.

    Examples
    --------
    >>> import numpy as np
    >>> from sk_attention import AttentionPoolingClassifier
    >>> rng = np.random.RandomState(0)
    >>> X = [rng.normal(size=(n, 2)) for n in rng.randint(3, 9, size=60)]
    >>> y = np.array(["high" if x[:, 0].max() > 1 else "low" for x in X])
    >>> clf = AttentionPoolingClassifier(max_epochs=5, random_state=0).fit(X, y)
    >>> clf.classes_
    array(['high', 'low'], dtype='<U4')
    >>> clf.predict_proba(X[:3]).shape
    (3, 2)
    >>> [w.shape for w in clf.attention_weights(X[:2])]
    [(1, 7), (1, 8)]
    """

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        # 2-D X is read as order-free univariate sequences, which loses which
        # column holds which value: tabular benchmarks score poorly.
        tags.classifier_tags.poor_score = True
        return tags

    def _check_target(self, y, n_samples):
        if y is None:
            raise ValueError(
                "AttentionPoolingClassifier requires y to be passed, but the "
                "target y is None."
            )
        y = _check_n_samples(y, n_samples)
        _check_finite_labels(y)
        try:
            y = column_or_1d(y, warn=True)
            check_classification_targets(y)
        except ValueError as error:
            raise ValueError(f"y cannot be used as class labels: {error}") from None
        self.classes_, codes = _encode_classes(y)
        return "classification", codes, len(self.classes_)

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X: ArrayLike, y: ArrayLike) -> "AttentionPoolingClassifier":
        """Train the network on labelled sequences.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_steps, n_features), or list of
            arrays of shape (n_steps_i, n_features)
        y : array-like of shape (n_samples,)
            Class labels (at least two classes).

        Returns
        -------
        self : AttentionPoolingClassifier
        """
        return self._fit(X, y)

    def predict_proba(self, X: ArrayLike) -> np.ndarray:
        """Class probabilities.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_steps, n_features), or list of
            arrays of shape (n_steps_i, n_features)

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
            Columns follow ``classes_``.
        """
        scores = self._predict_scores(X)
        scores -= scores.max(axis=1, keepdims=True)
        proba = np.exp(scores)
        return proba / proba.sum(axis=1, keepdims=True)

    def predict(self, X: ArrayLike) -> np.ndarray:
        """Predicted class labels.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_steps, n_features), or list of
            arrays of shape (n_steps_i, n_features)

        Returns
        -------
        y_pred : ndarray of shape (n_samples,)
        """
        scores = self._predict_scores(X)  # checks that the model is fitted
        return self.classes_[scores.argmax(axis=1)]

    def _fitted_state(self):
        classes = self.classes_
        return {"classes": classes.tolist(), "classes_dtype": classes.dtype.str}

    def _restore_fitted_state(self, state):
        self.classes_ = np.asarray(state["classes"], dtype=state["classes_dtype"])


class AttentionPoolingRegressor(
    RegressorMixin, _RegressionTargetMixin, _BaseAttentionPooling
):
    __doc__ = f"""Predict numbers from sequences, bags or sets of vectors.

    The network of :class:`AttentionPoolingClassifier` with a linear output
    trained on the mean squared error. Targets are standardized for training
    and predictions restored to their units; several targets (2-D ``y``) are
    predicted together.
    {_INPUT_DOC}
    Parameters
    ----------{_PARAMETERS_DOC}
    Attributes
    ----------
    n_features_in_ : int
        Features per step seen in ``fit``.
    module_ : torch.nn.Module
        The trained network: step embedding, attention, prediction head.
    net_ : skorch.NeuralNet
        The skorch net that trained it.
    history_ : skorch.History
        Per-epoch losses.

    See Also
    --------
    AttentionPooling : The pooled vectors as features for another model.
    AttentionPoolingClassifier : The same network predicting classes.

    Examples
    --------
    >>> import numpy as np
    >>> from sk_attention import AttentionPoolingRegressor
    >>> rng = np.random.RandomState(0)
    >>> X = rng.normal(size=(50, 5, 2))
    >>> y = X[:, :, 0].max(axis=1)
    >>> reg = AttentionPoolingRegressor(max_epochs=5, random_state=0).fit(X, y)
    >>> reg.predict(X[:4]).shape
    (4,)
    """

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        # See AttentionPoolingClassifier: 2-D X loses the column identities.
        tags.regressor_tags.poor_score = True
        return tags

    def _check_target(self, y, n_samples):
        if y is None:
            raise ValueError(
                "AttentionPoolingRegressor requires y to be passed, but the "
                "target y is None."
            )
        y = _check_n_samples(y, n_samples)
        return self._check_regression_target(y)

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X: ArrayLike, y: ArrayLike) -> "AttentionPoolingRegressor":
        """Train the network on sequences with numeric targets.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_steps, n_features), or list of
            arrays of shape (n_steps_i, n_features)
        y : array-like of shape (n_samples,) or (n_samples, n_targets)

        Returns
        -------
        self : AttentionPoolingRegressor
        """
        return self._fit(X, y)

    def predict(self, X: ArrayLike) -> np.ndarray:
        """Predicted targets.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_steps, n_features), or list of
            arrays of shape (n_steps_i, n_features)

        Returns
        -------
        y_pred : ndarray of shape (n_samples,) or (n_samples, n_targets)
            2-D when ``y`` was 2-D in ``fit``.
        """
        y = self._predict_scores(X) * self._y_scale + self._y_mean
        return y if self._y_2d else y[:, 0]

    def _fitted_state(self):
        return self._regression_state()

    def _restore_fitted_state(self, state):
        self._restore_regression_state(state)
