"""Serving without torch: export to ONNX, predict with onnxruntime.

:func:`export` writes a fitted estimator as ONNX graphs (needs torch and
``onnx``); :func:`load` reads them back as a runtime object with the
estimator's prediction methods, which needs only numpy and ``onnxruntime``:
this module imports no torch, so a server can run without it. Install the
packages with ``pip install 'sk-attention[onnx]'``.

Examples
--------
>>> import numpy as np
>>> from sk_attention import AttentionPoolingClassifier
>>> from sk_attention.onnx import export, load
>>> rng = np.random.RandomState(0)
>>> X = rng.normal(size=(40, 5, 2)).astype(np.float32)
>>> y = (X[:, :, 0].max(axis=1) > 1).astype(int)
>>> clf = AttentionPoolingClassifier(max_epochs=2, random_state=0).fit(X, y)
>>> import tempfile
>>> directory = tempfile.mkdtemp()
>>> served = load(export(clf, directory))
>>> bool((served.predict(X) == clf.predict(X)).all())
True
"""

import os
from pathlib import Path

from ._onnx._format import GRAPH_FILES
from ._onnx._runtime import (
    OnnxAttentionPooling,
    OnnxAttentionPoolingClassifier,
    OnnxAttentionPoolingRegressor,
    OnnxAttentionSeq2Seq,
    open_sessions,
)

__all__ = [
    "OnnxAttentionPooling",
    "OnnxAttentionPoolingClassifier",
    "OnnxAttentionPoolingRegressor",
    "OnnxAttentionSeq2Seq",
    "export",
    "load",
]

_RUNTIMES = {
    "AttentionPooling": OnnxAttentionPooling,
    "AttentionPoolingClassifier": OnnxAttentionPoolingClassifier,
    "AttentionPoolingRegressor": OnnxAttentionPoolingRegressor,
    "AttentionSeq2Seq": OnnxAttentionSeq2Seq,
}


def export(
    estimator, path: str | os.PathLike, *, quantize: bool = False
) -> Path:
    """Write a fitted estimator as ONNX graphs into the directory ``path``.

    The attention pooling estimators become one graph, ``model.onnx``
    (inputs: ``X``, the padded ``(batch, n_steps, n_features)`` float32
    sequences, and their ``lengths``; outputs: the pooled vectors, the
    attention weights and, for the classifier and the regressor, the
    prediction head's scores). :class:`~sk_attention.AttentionSeq2Seq`
    becomes an encoder graph, ``encoder.onnx`` (source ids and lengths in;
    the decoder's memory and first state out), and a one-step decoder graph,
    ``decoder.onnx`` (the previous token, the memory and the state in;
    log-probabilities of the next token and the new state out; the
    Transformer's state is its key/value cache). Batch and lengths are
    dynamic. Every graph carries, as JSON metadata under the key
    ``"sk_attention"``, the vocabularies, tokenizer settings, classes or
    target scaling, and the decoding settings.

    Parameters
    ----------
    estimator : AttentionSeq2Seq, AttentionPooling, \
AttentionPoolingClassifier or AttentionPoolingRegressor
        Fitted. It is not changed.
    path : str or path-like
        A directory, made if missing; files of an earlier export there are
        replaced.
    quantize : bool, default=False
        Quantize the weights to int8 with onnxruntime's dynamic quantizer:
        smaller files, outputs that differ slightly from the estimator's.

    Returns
    -------
    pathlib.Path
        The directory, for :func:`load`.

    Raises
    ------
    ImportError
        Without the ``onnx`` package (or ``onnxruntime`` with
        ``quantize=True``), naming the extra to install.
    """
    from ._onnx._export import export_estimator

    return export_estimator(estimator, path, quantize)


def load(path: str | os.PathLike, *, n_threads: int | None = None):
    """Open an export of :func:`export` for prediction, without torch.

    Parameters
    ----------
    path : str or path-like
        The directory :func:`export` wrote.
    n_threads : int, default=None
        Threads of onnxruntime's operators; None lets it choose.

    Returns
    -------
    OnnxAttentionSeq2Seq, OnnxAttentionPooling, \
OnnxAttentionPoolingClassifier or OnnxAttentionPoolingRegressor
        With the prediction methods of the exported estimator (``predict``,
        ``score``, ``transform``, ``predict_proba``, ``attention_weights``
        as it had them).

    Raises
    ------
    ImportError
        Without the ``onnxruntime`` package, naming the extra to install.
    """
    directory = Path(path)
    families = [
        family
        for family, names in GRAPH_FILES.items()
        if all((directory / name).is_file() for name in names)
    ]
    if not families:
        raise FileNotFoundError(
            f"{str(path)!r} holds no export of sk_attention.onnx.export: "
            "expected model.onnx, or encoder.onnx and decoder.onnx."
        )
    family = families[0]
    sessions, metadata = open_sessions(directory, family, n_threads)
    return _RUNTIMES[metadata["estimator"]](sessions, metadata)
