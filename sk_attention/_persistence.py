"""A model file format that never unpickles.

A saved model is one safetensors file. Its tensors are the network's
``state_dict``; its metadata holds a JSON document with the estimator's
class, its hyper-parameters and fitted state (vocabularies, classes, sizes),
the format version and the library version. Loading parses JSON and raw
tensor bytes only, so a file from an untrusted source cannot run code, and
tensors always load onto the CPU first (a model trained on a GPU loads on a
machine without one).
"""

import json
import os

from safetensors import SafetensorError
from safetensors.torch import load_file, safe_open, save_file

__all__ = ["FORMAT_VERSION", "load_model_file", "save_model_file"]

#: Bumped when a saved file can no longer be read by an older reader.
FORMAT_VERSION = 1
_METADATA_KEY = "sk_attention"


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
    """
    from . import __version__

    document = {
        "format_version": FORMAT_VERSION,
        "library_version": __version__,
        "estimator": estimator,
        "config": config,
    }
    try:
        text = json.dumps(document)
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
    save_file(tensors, os.fspath(path), metadata={_METADATA_KEY: text})


def load_model_file(path, *, estimator):
    """Read a file written by :func:`save_model_file`.

    Parameters
    ----------
    path : str or os.PathLike
    estimator : str
        The class name the file must have been saved from.

    Returns
    -------
    config : dict
    state_dict : dict of str to torch.Tensor
        On the CPU.

    Raises
    ------
    FileNotFoundError
        If ``path`` does not exist.
    ValueError
        If the file is not a model file of this library, was saved by another
        estimator class, has an unknown format version, or is corrupted.
    """
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"No model file at {path!r}.")
    try:
        with safe_open(path, framework="pt", device="cpu") as handle:
            metadata = handle.metadata() or {}
        state_dict = load_file(path, device="cpu")
    except (SafetensorError, OSError, ValueError, RuntimeError) as error:
        raise ValueError(
            f"{path!r} is not a readable sk_attention model file (it may be "
            f"truncated, corrupted or in another format): {error}"
        ) from None
    if _METADATA_KEY not in metadata:
        raise ValueError(f"{path!r} is a safetensors file but not an sk_attention model.")
    try:
        document = json.loads(metadata[_METADATA_KEY])
        version = document["format_version"]
        saved_estimator = document["estimator"]
        config = document["config"]
    except (ValueError, KeyError, TypeError) as error:
        raise ValueError(f"{path!r} has unreadable model metadata: {error}") from None
    if version != FORMAT_VERSION:
        raise ValueError(
            f"{path!r} uses model format version {version}; this version of "
            f"sk_attention ({document.get('library_version')!r} saved it) reads "
            f"version {FORMAT_VERSION} only."
        )
    if saved_estimator != estimator:
        raise ValueError(
            f"{path!r} holds a {saved_estimator}, not a {estimator}; load it "
            f"with {saved_estimator}.load."
        )
    return config, {name: tensor for name, tensor in state_dict.items()}

