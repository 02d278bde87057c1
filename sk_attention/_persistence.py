"""A model file format that never unpickles.

A saved model is one safetensors file. Its tensors are the network's
``state_dict``; its metadata holds a JSON document with the estimator's
class, its hyper-parameters and fitted state (vocabularies, classes, sizes),
the format version, the library version and a SHA-256 digest of the
config and the tensors. Loading parses JSON and raw tensor bytes only, so a file from an
untrusted source cannot run code, and tensors always load onto the CPU first
(a model trained on a GPU loads on a machine without one). The digest turns
a corrupted file into an error rather than a model that predicts garbage; it
guards against accidents, not against someone who rewrites the file (such a
file still cannot run code).
"""

import hashlib
import json
import os
import warnings
from numbers import Integral

import torch
from safetensors import SafetensorError
from safetensors.torch import safe_open, save_file

__all__ = [
    "FORMAT_VERSION",
    "ModelConfig",
    "load_model_file",
    "loaded_device",
    "model_digest",
    "save_model_file",
    "settings_from_json",
    "settings_to_json",
]

#: ``"major.minor"``. The minor part grows when fields are added that older
#: readers may ignore; the major part when older readers cannot read a file.
#: 1.1: every estimator stores its training history. 1.2: seq2seq models store
#: their subword tokenizers (or null), the pooling estimators their
#: vocabulary (null for numeric input). 1.3: every estimator stores the values
#: ``fit`` resolved for its ``"auto"`` settings.
FORMAT_VERSION = "1.3"
_METADATA_KEY = "sk_attention"


def model_digest(config, state_dict):
    """SHA-256 of a config and a state dict (names, dtypes, shapes, bytes).

    Parameters
    ----------
    config : dict
        JSON-serialisable.
    state_dict : dict of str to torch.Tensor
        CPU tensors.

    Returns
    -------
    str
        The hexadecimal digest.

    Examples
    --------
    >>> zeros = model_digest({"a": 1}, {"w": torch.zeros(2)})
    >>> zeros == model_digest({"a": 1}, {"w": torch.zeros(2)})
    True
    >>> zeros == model_digest({"a": 1}, {"w": torch.ones(2)})
    False
    >>> zeros == model_digest({"a": 2}, {"w": torch.zeros(2)})
    False
    """
    digest = hashlib.sha256(json.dumps(config, sort_keys=True).encode())
    for name in sorted(state_dict):
        tensor = state_dict[name].contiguous()
        digest.update(f"{name}|{tensor.dtype}|{tuple(tensor.shape)}|".encode())
        digest.update(tensor.reshape(-1).view(torch.uint8).numpy().tobytes())
    return digest.hexdigest()


def save_model_file(path, *, estimator, config, state_dict):
    """Write ``state_dict`` and the JSON-able ``config`` to ``path``.

    Parameters
    ----------
    path : str or os.PathLike
    estimator : str
        The class name, checked again on load.
    config : dict
        JSON-serialisable hyper-parameters and fitted state.
    state_dict : dict of str to torch.Tensor

    Notes
    -----
    The file is written next to ``path`` and then renamed onto it, so an
    interrupted save never leaves a half-written file in place of a good one.
    """
    from . import __version__

    try:
        json.dumps(config)
    except TypeError as error:
        raise ValueError(
            f"This {estimator} cannot be saved: a setting is not JSON-serialisable "
            f"({error}). Custom callables (tokenizers, optimizers, callbacks) "
            "cannot be stored safely; pickle the model instead, for trusted use."
        ) from None
    # safetensors wants contiguous CPU tensors that share no memory.
    tensors = {
        name: tensor.detach().to("cpu").contiguous().clone()
        for name, tensor in state_dict.items()
    }
    document = {
        "format_version": FORMAT_VERSION,
        "library_version": __version__,
        "estimator": estimator,
        "sha256": model_digest(config, tensors),
        "config": config,
    }
    text = json.dumps(document)
    path = os.fspath(path)
    partial = f"{path}.{os.getpid()}.partial"
    try:
        save_file(tensors, partial, metadata={_METADATA_KEY: text})
        os.replace(partial, path)
    finally:
        if os.path.exists(partial):
            os.remove(partial)


def load_model_file(path, *, estimator):
    """Read a file written by :func:`save_model_file`.

    Parameters
    ----------
    path : str or os.PathLike
    estimator : str
        The class name the file must have been saved from.

    Returns
    -------
    config : ModelConfig
        The JSON configuration, read through checks that name what is
        missing or of the wrong type.
    state_dict : dict of str to torch.Tensor
        On the CPU.

    Raises
    ------
    FileNotFoundError
        If ``path`` does not exist.
    ValueError
        If the file is not a model file of this library, was saved by another
        estimator class, has another major format version, or is truncated
        or corrupted.
    """
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"No model file at {path!r}.")
    try:
        with safe_open(path, framework="pt", device="cpu") as handle:
            metadata = handle.metadata() or {}
            state_dict = {name: handle.get_tensor(name) for name in handle.keys()}
    except (SafetensorError, OSError, ValueError, RuntimeError) as error:
        raise ValueError(
            f"{path!r} is not a readable sk_attention model file (it may be "
            f"truncated, corrupted or in another format): {error}"
        ) from None
    if _METADATA_KEY not in metadata:
        raise ValueError(
            f"{path!r} is a safetensors file but not an sk_attention model."
        )
    try:
        document = json.loads(metadata[_METADATA_KEY])
        version = document["format_version"]
        saved_estimator = document["estimator"]
        digest = document["sha256"]
        config = document["config"]
    except (ValueError, KeyError, TypeError) as error:
        raise ValueError(f"{path!r} has unreadable model metadata: {error!r}") from None
    saved_by = document.get("library_version")
    if _major(version) != _major(FORMAT_VERSION):
        raise ValueError(
            f"{path!r} uses model format version {version!r} (written by "
            f"sk_attention {saved_by!r}); this version of sk_attention reads "
            f"format {_major(FORMAT_VERSION)}.x only."
        )
    if saved_estimator != estimator:
        raise ValueError(
            f"{path!r} holds a {saved_estimator}, not a {estimator}; load it "
            f"with {saved_estimator}.load."
        )
    if not isinstance(config, dict):
        raise ValueError(f"{path!r} has unreadable model metadata: no config.")
    if model_digest(config, state_dict) != digest:
        raise ValueError(
            f"{path!r} is corrupted: its contents do not match the checksum "
            "stored with them."
        )
    return ModelConfig(config, path, str(version)), state_dict


_MISSING = object()


class ModelConfig:
    """The configuration of a model file, read with checks.

    A key that is missing, or a value of another type than the reader
    expects, is a :class:`ValueError` naming the key and the file, never a
    raw ``KeyError`` or a ``TypeError`` deep inside ``load``.

    Parameters
    ----------
    config : dict
        The parsed JSON configuration.
    path : str
        The file, for error messages.
    format_version : str
        The format version the file was written in.

    Examples
    --------
    >>> config = ModelConfig({"n": 3, "name": "x"}, "model.safetensors", "1.1")
    >>> config.get("n", int)
    3
    >>> config.get("name", int)
    Traceback (most recent call last):
    ...
    ValueError: 'model.safetensors' holds name='x' in its model configuration; \
expected int.
    """

    def __init__(self, config, path, format_version):
        self.config = config
        self.path = path
        self.format_version = format_version

    def get(self, key, kind, *, section=None, default=_MISSING):
        """``config[section][key]``, checked to be an instance of ``kind``.

        Parameters
        ----------
        key : str
        kind : type or tuple of type
            ``int`` refuses booleans; ``None`` in a tuple allows null.
        section : str, default=None
            A nested object of the configuration holding ``key``.
        default : object, optional
            Returned when the key is absent; without it, absence is an error.
        """
        where = self.config if section is None else self.get(section, dict)
        name = key if section is None else f"{section}.{key}"
        if key not in where:
            if default is not _MISSING:
                return default
            raise ValueError(
                f"{self.path!r} lacks {name!r} in its model configuration; the "
                "file is incomplete or was not written by sk_attention."
            )
        value = where[key]
        kinds = kind if isinstance(kind, tuple) else (kind,)
        allowed = tuple(type(None) if k is None else k for k in kinds)
        is_bool = isinstance(value, bool)
        if not isinstance(value, allowed) or (is_bool and bool not in allowed):
            expected = " or ".join(
                "null" if k is None else k.__name__ for k in kinds
            )
            raise ValueError(
                f"{self.path!r} holds {name}={value!r} in its model "
                f"configuration; expected {expected}."
            )
        return value


def _major(version):
    """The major part of a format version (``"1.0"`` or ``1`` -> ``"1"``)."""
    return str(version).split(".", 1)[0]


def loaded_device(path, saved_device, params):
    """The device a loaded model gets, falling back to the CPU without CUDA.

    Parameters
    ----------
    path : str or os.PathLike
        The model file, for the warning.
    saved_device : str
        The ``device`` the model was saved with.
    params : dict
        The settings the caller passed to ``load``; an explicit ``device``
        there always wins.

    Returns
    -------
    str
    """
    if "device" in params:
        return params["device"]
    if str(saved_device).startswith("cuda") and not torch.cuda.is_available():
        warnings.warn(
            f"{os.fspath(path)!r} was saved with device={saved_device!r}; CUDA is "
            "not available, so the model is loaded with device='cpu'.",
            UserWarning,
            stacklevel=3,
        )
        return "cpu"
    return saved_device


#: The settings that only matter for training and may hold Python objects.
_TRAINING_OBJECTS = ("callbacks", "optimizer", "random_state")


def settings_to_json(estimator):
    """``estimator.get_params()`` in a form JSON can hold, for :func:`save_model_file`.

    A ``torch.optim`` optimizer class is stored by name and comes back from
    :func:`settings_from_json`. Callbacks, other optimizer classes and
    ``RandomState`` instances cannot be written safely; they only matter for
    training, so they are stored as their defaults, with one warning naming
    them, and can be given again to ``load``.

    Parameters
    ----------
    estimator : BaseEstimator

    Returns
    -------
    dict
    """
    params = estimator.get_params()
    params["device"] = str(params["device"])
    optimizer = params["optimizer"]
    if isinstance(optimizer, type) and getattr(
        torch.optim, optimizer.__name__, None
    ) is optimizer:
        params["optimizer"] = f"torch.optim.{optimizer.__name__}"
    if isinstance(params["random_state"], Integral):
        params["random_state"] = int(params["random_state"])
    defaults = type(estimator)().get_params()
    dropped = []
    for name in _TRAINING_OBJECTS:
        value = params[name]
        if value is not None and not isinstance(value, (str, int)):
            params[name] = defaults[name]
            dropped.append(name)
    if dropped:
        warnings.warn(
            f"{type(estimator).__name__}.save stores {dropped} as their defaults: "
            "they cannot be written safely and only affect training; pass them "
            "to load again if the model will train more.",
            UserWarning,
            stacklevel=3,
        )
    return params


def settings_from_json(params):
    """The saved settings, with a ``torch.optim`` class name made a class again.

    Anything else stays as saved, to be validated like a constructor
    argument.

    Examples
    --------
    >>> settings_from_json({"optimizer": "torch.optim.RMSprop"})["optimizer"]
    <class 'torch.optim.rmsprop.RMSprop'>
    >>> settings_from_json({"optimizer": "os.system"})["optimizer"]
    'os.system'
    """
    params = dict(params)
    name = params.get("optimizer")
    if isinstance(name, str) and name.startswith("torch.optim."):
        optimizer = getattr(torch.optim, name.removeprefix("torch.optim."), None)
        if isinstance(optimizer, type) and issubclass(optimizer, torch.optim.Optimizer):
            params["optimizer"] = optimizer
    return params
