"""Targets of the pooling estimators: checked, encoded, and decoded again.

Every function here is pure: it returns what the estimator will store, so
that a ``fit`` that fails on ``y`` changes nothing. Given the encoding of a
fitted estimator (a warm start), it reads ``y`` through that encoding
instead of learning a new one. With them: the mixin for standardized
regression targets, and the file form of the fitted classes.
"""

import numpy as np
from sklearn.utils import assert_all_finite
from sklearn.utils.multiclass import check_classification_targets, type_of_target
from sklearn.utils.validation import check_array, column_or_1d

__all__ = [
    "CLASSIFICATION",
    "NO_REGRESSION",
    "REGRESSION",
    "RegressionTargetMixin",
    "check_labels",
    "check_n_samples",
    "check_regression_target",
    "classes_from_config",
    "classes_to_config",
    "encode_classes",
    "target_type",
]

#: ``type_of_target`` values read as classification and as regression.
CLASSIFICATION = ("binary", "multiclass")
REGRESSION = ("continuous", "continuous-multioutput")


def check_n_samples(y, n_samples):
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


def target_type(y):
    """``type_of_target(y)`` of finite targets, with errors that name ``y``."""
    _check_finite_labels(y)
    try:
        return type_of_target(y, input_name="y")
    except (TypeError, ValueError) as error:
        raise type(error)(f"y cannot be used as a target: {error}") from None


def check_labels(y):
    """Class labels as a 1-D array, or an error saying why they are not."""
    _check_finite_labels(y)
    try:
        y = column_or_1d(y, warn=True)
        check_classification_targets(y)
    except ValueError as error:
        raise ValueError(f"y cannot be used as class labels: {error}") from None
    return y


def encode_classes(y, classes=None):
    """The classes and the integer code of every label.

    Parameters
    ----------
    y : ndarray of shape (n_samples,)
    classes : ndarray or None, default=None
        The classes of a fitted estimator: the labels must be among them.
        None learns them from ``y`` (at least two).

    Returns
    -------
    classes : ndarray of shape (n_classes,)
    codes : ndarray of shape (n_samples,), int64

    Examples
    --------
    >>> encode_classes(np.array(["b", "a", "b"]))
    (array(['a', 'b'], dtype='<U1'), array([1, 0, 1]))
    >>> encode_classes(np.array(["c"]), classes=np.array(["a", "b"]))
    Traceback (most recent call last):
    ...
    ValueError: y holds labels the fitted classifier does not know: ['c'] ...
    """
    try:
        found, codes = np.unique(y, return_inverse=True)
    except TypeError as error:
        raise TypeError(
            f"y mixes labels that cannot be compared with each other ({error}); "
            "use labels of one type."
        ) from None
    if classes is None:
        if len(found) < 2:
            raise ValueError(
                f"y has 1 class ({found[0]!r}); a classifier needs at least 2 "
                "classes."
            )
        return found, codes.astype(np.int64)
    unknown = found[~np.isin(found, classes)]
    if len(unknown):
        raise ValueError(
            f"y holds labels the fitted classifier does not know: "
            f"{unknown.tolist()} (its classes are {classes.tolist()}). A warm "
            "start continues the fitted network, whose outputs are those "
            "classes; set warm_start=False to learn new ones."
        )
    return classes, np.searchsorted(classes, y).astype(np.int64)


def check_regression_target(y, fitted=None):
    """Standardized numeric targets and the statistics that undo it.

    Parameters
    ----------
    y : array-like of shape (n_samples,) or (n_samples, n_targets)
    fitted : dict or None, default=None
        The statistics of a fitted estimator (a warm start): ``y`` is
        standardized with them and must have as many targets.

    Returns
    -------
    y_train : ndarray of shape (n_samples, n_targets), float32
    statistics : dict
        ``_y_2d`` (whether ``y`` was 2-D), ``_y_mean`` and ``_y_scale``.
    """
    try:
        y = np.asarray(y, dtype=np.float64)
    except (TypeError, ValueError) as error:
        raise TypeError(f"y must hold numbers for regression: {error}") from None
    if y.ndim not in (1, 2):
        raise ValueError(f"y must be 1-D or 2-D, got shape {y.shape}.")
    y = check_array(y, ensure_2d=False, input_name="y", ensure_min_samples=1)
    two_d = y.ndim == 2
    y = y.reshape(len(y), -1)
    if fitted is not None:
        n_fitted = len(fitted["_y_mean"])
        if y.shape[1] != n_fitted or two_d != fitted["_y_2d"]:
            raise ValueError(
                f"y has shape {y.shape if two_d else y.shape[:1]}, but the fitted "
                f"network predicts {n_fitted} target(s) "
                f"{'as 2-D' if fitted['_y_2d'] else 'as 1-D'}; a warm start needs "
                "the same targets (or set warm_start=False)."
            )
        statistics = fitted
    else:
        with np.errstate(over="ignore", invalid="ignore"):  # reported below
            mean, scale = y.mean(axis=0), y.std(axis=0)
        if not (np.isfinite(mean).all() and np.isfinite(scale).all()):
            raise ValueError(
                "y holds values too large to standardize (their mean or standard "
                "deviation overflows float64); rescale y."
            )
        scale[scale == 0] = 1.0
        statistics = {"_y_2d": two_d, "_y_mean": mean, "_y_scale": scale}
    y_train = (y - statistics["_y_mean"]) / statistics["_y_scale"]
    return y_train.astype(np.float32), statistics


class RegressionTargetMixin:
    """Targets standardized for training, restored at prediction."""

    _regression_attributes = ("_y_2d", "_y_mean", "_y_scale")

    def _regression_target(self, y, fitted):
        statistics = None
        if fitted is not None and fitted.get("_y_mean") is not None:
            statistics = {name: fitted[name] for name in self._regression_attributes}
        y_train, statistics = check_regression_target(y, statistics)
        encoding = {"_task": "regression", "_n_outputs": y_train.shape[1]}
        return {**encoding, **statistics}, y_train

    def _regression_to_config(self, encoding):
        return {
            "y_2d": bool(encoding["_y_2d"]),
            "y_mean": encoding["_y_mean"].tolist(),
            "y_scale": encoding["_y_scale"].tolist(),
        }

    def _regression_from_config(self, config):
        return {
            "_y_2d": config.get("y_2d", bool, section="fitted"),
            "_y_mean": np.asarray(
                config.get("y_mean", list, section="fitted"), dtype=np.float64
            ),
            "_y_scale": np.asarray(
                config.get("y_scale", list, section="fitted"), dtype=np.float64
            ),
        }


NO_REGRESSION = {"_y_2d": None, "_y_mean": None, "_y_scale": None}


def classes_to_config(classes):
    return {"classes": classes.tolist(), "classes_dtype": classes.dtype.str}


def classes_from_config(config):
    classes = config.get("classes", list, section="fitted")
    dtype = config.get("classes_dtype", str, section="fitted")
    try:
        return np.asarray(classes, dtype=dtype)
    except (TypeError, ValueError) as error:
        raise ValueError(
            f"{config.path!r} holds classes that do not read as {dtype!r}: {error}"
        ) from None
