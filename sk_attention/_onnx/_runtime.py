"""The torch-free runtime: exported graphs run by onnxruntime.

The runtime classes read an export directory (see ``_format.py``) and offer
the prediction methods of the estimator that was exported, with the same
input checks, batching and outputs; they import numpy, onnxruntime and the
torch-free text modules only.
"""

import numpy as np

from .._nbest import NBestTable, check_nbest_arguments, total_log_probs
from .._ragged import check_sequences, sorted_batches
from .._subwords import subword_from_json
from .._text import (
    Vocabulary,
    check_pairs,
    check_text_sequences,
    decode_output,
    make_tokenizer,
    tokenize_items,
)
from ..metrics import sequence_accuracy
from ._decoding import GraphDecoder
from ._format import graph_paths, read_metadata, require

__all__ = [
    "OnnxAttentionPooling",
    "OnnxAttentionPoolingClassifier",
    "OnnxAttentionPoolingRegressor",
    "OnnxAttentionSeq2Seq",
    "open_sessions",
]


def open_sessions(path, family, n_threads):
    """onnxruntime sessions of a family's graphs, and their metadata."""
    ort = require("onnxruntime", "sk_attention.onnx.load")
    options = ort.SessionOptions()
    if n_threads is not None:
        options.intra_op_num_threads = n_threads
        options.inter_op_num_threads = n_threads
    sessions = [
        ort.InferenceSession(
            str(graph), options, providers=["CPUExecutionProvider"]
        )
        for graph in graph_paths(path, family)
    ]
    return sessions, read_metadata(sessions[0], path)


class _Runtime:
    """What every runtime holds: its sessions and the exported metadata.

    Attributes
    ----------
    metadata_ : dict
        The JSON metadata of the export.
    """

    def __init__(self, sessions, metadata):
        self._sessions = sessions
        self.metadata_ = metadata

    def __repr__(self):
        return f"{type(self).__name__}(<{self.metadata_['estimator']} in ONNX>)"


# -- attention pooling --------------------------------------------------------


class _PoolingRuntime(_Runtime):
    """The pooling graph, run on padded batches; ``attention_weights``.

    Attributes
    ----------
    batch_size : int
        Sequences run at once (1024).
    """

    def __init__(self, sessions, metadata):
        super().__init__(sessions, metadata)
        config = metadata["config"]
        self.n_features_in_ = config["n_features_in"]
        self._fitted = config["fitted"]
        self._outputs = metadata["outputs"]
        self.batch_size = metadata["batch_size"]

    def _run(self, X, output):
        """``output`` of every sample (pooled, weights or scores), and lengths."""
        sequences = check_sequences(X, n_features=self.n_features_in_)
        batches = sorted_batches(sequences.lengths, self.batch_size)
        parts = []
        for batch in batches:
            values, lengths = sequences.gather(batch)
            feed = {"X": values, "lengths": lengths}
            parts.append(self._sessions[0].run([output], feed)[0])
        # Back from length order to the order of X.
        position = np.argsort(np.concatenate(batches))
        if output == "weights":  # each batch padded to its own longest
            rows = [row for part in parts for row in part]
            return [rows[i] for i in position], sequences.lengths
        return np.concatenate(parts)[position], sequences.lengths

    def attention_weights(self, X):
        """The weights of each sample's steps, as the estimator's method.

        Returns
        -------
        list of ndarray of shape (num_heads, n_steps_i), float32
        """
        weights, lengths = self._run(X, "weights")
        return [w[:, :length].copy() for w, length in zip(weights, lengths)]


class OnnxAttentionPooling(_PoolingRuntime):
    """An exported :class:`~sk_attention.AttentionPooling`: ``transform``.

    Made by :func:`sk_attention.onnx.load`.

    Attributes
    ----------
    n_features_in_ : int
    metadata_ : dict
    """

    def transform(self, X):
        """The pooled vectors, as ``AttentionPooling.transform``.

        Returns
        -------
        ndarray of shape (n_samples, n_outputs), float32
        """
        return self._run(X, "pooled")[0]


class OnnxAttentionPoolingClassifier(_PoolingRuntime):
    """An exported :class:`~sk_attention.AttentionPoolingClassifier`.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
    n_features_in_ : int
    metadata_ : dict
    """

    def __init__(self, sessions, metadata):
        super().__init__(sessions, metadata)
        self.classes_ = np.asarray(
            self._fitted["classes"], dtype=self._fitted["classes_dtype"]
        )

    def predict_proba(self, X):
        """Class probabilities; columns follow ``classes_``.

        Returns
        -------
        ndarray of shape (n_samples, n_classes)
        """
        scores = self._run(X, "scores")[0].astype(np.float64)
        scores -= scores.max(axis=1, keepdims=True)
        proba = np.exp(scores)
        return proba / proba.sum(axis=1, keepdims=True)

    def predict(self, X):
        """Predicted class labels.

        Returns
        -------
        ndarray of shape (n_samples,)
        """
        return self.classes_[self._run(X, "scores")[0].argmax(axis=1)]


class OnnxAttentionPoolingRegressor(_PoolingRuntime):
    """An exported :class:`~sk_attention.AttentionPoolingRegressor`.

    Attributes
    ----------
    n_features_in_ : int
    metadata_ : dict
    """

    def predict(self, X):
        """Predicted targets, 2-D when ``y`` was 2-D in ``fit``.

        Returns
        -------
        ndarray of shape (n_samples,) or (n_samples, n_targets)
        """
        scores = self._run(X, "scores")[0].astype(np.float64)
        y = scores * np.asarray(self._fitted["y_scale"]) + np.asarray(
            self._fitted["y_mean"]
        )
        return y if self._fitted["y_2d"] else y[:, 0]


# -- sequence to sequence -----------------------------------------------------


def _tokenizer(config, name, side):
    subwords = config[f"{side}_subwords"]
    if subwords is not None:
        return subword_from_json(subwords["json"], subwords["name"], side)
    return make_tokenizer(name, f"{side}_tokenizer")


class OnnxAttentionSeq2Seq(_Runtime):
    """An exported :class:`~sk_attention.AttentionSeq2Seq`.

    ``predict``, ``predict_nbest``, ``score_samples`` and ``score``, with
    the estimator's searches (the same code, on numpy arrays).

    Made by :func:`sk_attention.onnx.load`. The encoder graph runs once per
    batch of sources, the decoder graph once per step of the search.

    Attributes
    ----------
    beam_size : int
        1 decodes greedily, more runs a beam search; the exported
        estimator's value, which may be changed.
    length_penalty : float
    batch_size : int
        Sources decoded at once: the estimator's ``predict_batch_size``.
    max_output_length_ : int
    source_vocab_, target_vocab_ : Vocabulary
    metadata_ : dict
    """

    def __init__(self, sessions, metadata):
        super().__init__(sessions, metadata)
        config = metadata["config"]
        decoding = metadata["decoding"]
        self.beam_size = decoding["beam_size"]
        self.length_penalty = decoding["length_penalty"]
        self.batch_size = decoding["batch_size"]
        self.max_output_length_ = config["max_output_length"]
        self.source_vocab_ = Vocabulary(config["source_vocab"])
        self.target_vocab_ = Vocabulary(config["target_vocab"])
        self.source_tokenizer_ = _tokenizer(
            config, metadata["tokenizers"]["source"], "source"
        )
        self.target_tokenizer_ = _tokenizer(
            config, metadata["tokenizers"]["target"], "target"
        )
        self.target_is_text_ = config["target_is_text"]
        self._graphs = GraphDecoder(sessions[0], sessions[1], metadata["n_memory"])

    def _source_ids(self, X_items):
        tokens = tokenize_items(
            X_items, self.source_tokenizer_, "X", require_tokens=True
        )
        return [self.source_vocab_.encode(t) for t in tokens]

    def _output(self, ids):
        """Decoded ids as an output in the form ``y`` had: a string or tokens."""
        return decode_output(
            ids, self.target_vocab_, self.target_tokenizer_, self.target_is_text_
        )

    def _search_settings(self, beam_size):
        """The keyword arguments of the graphs' searches."""
        return dict(
            batch_size=self.batch_size,
            max_length=self.max_output_length_,
            beam_size=beam_size,
            length_penalty=self.length_penalty,
        )

    def predict(self, X):
        """Decode the output sequence of each source, as the estimator does.

        Parameters
        ----------
        X : sequence of str or of list of str

        Returns
        -------
        ndarray of shape (n_samples,), dtype object
            Strings if ``y`` held strings in ``fit``, else token lists.
        """
        items, _ = check_text_sequences(X, "X")
        decoded = self._graphs.decode(
            self._source_ids(items), **self._search_settings(self.beam_size)
        )
        outputs = np.empty(len(decoded), dtype=object)
        for index, ids in enumerate(decoded):
            outputs[index] = self._output(ids)
        return outputs

    def predict_nbest(self, X, n_best: int = 5, *, beam_size: int | None = None):
        """The ``n_best`` best outputs of a beam search for each source.

        As :meth:`AttentionSeq2Seq.predict_nbest
        <sk_attention.AttentionSeq2Seq.predict_nbest>`, with the same
        search: the same parameters, outputs and errors.

        Returns
        -------
        outputs, log_probs, scores : ndarray of shape (n_samples, n_best)
        """
        beam_size = self.beam_size if beam_size is None else beam_size
        check_nbest_arguments(n_best, beam_size)
        items, _ = check_text_sequences(X, "X")
        found = self._graphs.decode_nbest(
            self._source_ids(items), n_best=n_best, **self._search_settings(beam_size)
        )
        table = NBestTable(len(items), n_best, self._output, self.target_is_text_)
        table.fill(0, found)
        return table.arrays()

    def score_samples(self, X, y, *, per_token: bool = False):
        """The log-probability of each output ``y`` for ``X``.

        As :meth:`AttentionSeq2Seq.score_samples
        <sk_attention.AttentionSeq2Seq.score_samples>`, with the same
        parameters, outputs and errors; the decoder graph reads each given
        output one token at a time.

        Returns
        -------
        ndarray of shape (n_samples,), or list of ndarray
        """
        X_items, y_items, _ = check_pairs(X, y)
        target_tokens = tokenize_items(y_items, self.target_tokenizer_, "y")
        scored = self._graphs.target_log_probs(
            self._source_ids(X_items),
            [self.target_vocab_.encode(tokens) for tokens in target_tokens],
            batch_size=self.batch_size,
        )
        return total_log_probs(scored, per_token)

    def score(self, X, y):
        """Exact-match accuracy: the fraction of outputs equal to ``y``.

        Returns
        -------
        float
        """
        items, _ = check_text_sequences(y, "y")
        return sequence_accuracy(items, self.predict(X))
