"""The files of an exported model, its metadata, and the packages it needs.

An exported model is a directory of ONNX graphs: ``model.onnx`` for the
attention pooling estimators, ``encoder.onnx`` and ``decoder.onnx`` for
:class:`~sk_attention.AttentionSeq2Seq`. Every graph carries the same JSON
metadata (under :data:`METADATA_KEY`): the estimator, its fitted encoding
(vocabularies, tokenizers, classes, target scaling) and its decoding
settings, so that the runtime needs nothing but the directory. This module
imports neither torch nor onnx.
"""

import importlib
import json
from pathlib import Path

__all__ = [
    "FORMAT_VERSION",
    "GRAPH_FILES",
    "graph_paths",
    "METADATA_KEY",
    "read_metadata",
    "require",
]

FORMAT_VERSION = "1.0"
#: The metadata_props key of the JSON metadata in every graph.
METADATA_KEY = "sk_attention"
#: The graphs of each family, in the order the runtime opens them.
GRAPH_FILES = {
    "pooling": ("model.onnx",),
    "seq2seq": ("encoder.onnx", "decoder.onnx"),
}


def require(package, purpose):
    """Import an optional package, or say which extra installs it.

    Examples
    --------
    >>> require("json", "Reading metadata").__name__
    'json'
    """
    try:
        return importlib.import_module(package)
    except ImportError:
        raise ImportError(
            f"{purpose} needs the {package} package: pip install "
            "'sk-attention[onnx]'."
        ) from None


def read_metadata(session, path):
    """The JSON metadata of an onnxruntime ``InferenceSession``."""
    props = session.get_modelmeta().custom_metadata_map
    if METADATA_KEY not in props:
        raise ValueError(
            f"{str(path)!r} holds no {METADATA_KEY!r} metadata; it was not "
            "written by sk_attention.onnx.export."
        )
    metadata = json.loads(props[METADATA_KEY])
    if metadata.get("format_version") != FORMAT_VERSION:
        raise ValueError(
            f"{str(path)!r} has format version "
            f"{metadata.get('format_version')!r}; this version of sk_attention "
            f"reads {FORMAT_VERSION!r}."
        )
    return metadata


def graph_paths(directory, family):
    """The graph files of a ``family`` in an export directory."""
    return [Path(directory) / name for name in GRAPH_FILES[family]]
