"""The torch-free runtime: exported graphs run by onnxruntime.

The runtime classes read an export directory (see ``_format.py``) and offer
the prediction methods of the estimator that was exported, with the same
input checks, batching and outputs; they import numpy, onnxruntime and the
torch-free text modules only.
"""

import numpy as np

from .._ragged import check_sequences, pad_sequences, sorted_batches
from .._subwords import subword_from_json
from .._text import Vocabulary, check_text_sequences, make_tokenizer, tokenize_items
from ..metrics import sequence_accuracy
from ._format import graph_paths, read_metadata, require
from ._search import beam_search, greedy_search

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
        results = [None] * len(sequences)
        for batch in sorted_batches(sequences.lengths, self.batch_size):
            values, lengths = sequences.gather(batch)
            found = self._sessions[0].run([output], {"X": values, "lengths": lengths})
            for row, index in enumerate(batch):
                results[index] = found[0][row]
        if output == "weights":
            return results, sequences.lengths
        return np.stack(results), sequences.lengths

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
    """An exported :class:`~sk_attention.AttentionSeq2Seq`: ``predict``.

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
        self._n_memory = metadata["n_memory"]
        decoder = sessions[1]
        # The exporter drops inputs a graph does not read (the top LSTM
        # layer's hidden state, whose gates the state carries instead).
        self._step_inputs = {node.name for node in decoder.get_inputs()}
        self._step_outputs = [node.name for node in decoder.get_outputs()]
        self._step_names = [
            "tokens",
            *(f"memory_{i}" for i in range(self._n_memory)),
            *(f"state_{i}" for i in range(len(self._step_outputs) - 1)),
        ]

    def _step(self, tokens, memory, state):
        feed = {
            name: value
            for name, value in zip(self._step_names, [tokens, *memory, *state])
            if name in self._step_inputs
        }
        log_probs, *state = self._sessions[1].run(self._step_outputs, feed)
        return log_probs, state

    def _decode(self, source_ids):
        decoded = [None] * len(source_ids)
        lengths = [len(ids) for ids in source_ids]
        for batch in sorted_batches(lengths, self.batch_size):
            source, source_lengths = pad_sequences(
                [source_ids[index] for index in batch], dtype=np.int64
            )
            encoded = self._sessions[0].run(
                None, {"source": source, "lengths": source_lengths}
            )
            memory, state = encoded[: self._n_memory], encoded[self._n_memory :]
            if self.beam_size == 1:
                ids = greedy_search(self._step, memory, state, self.max_output_length_)
            else:
                ids = beam_search(
                    self._step, memory, state, self.max_output_length_,
                    self.beam_size, self.length_penalty,
                )
            for index, row in zip(batch, ids):
                decoded[index] = row
        return decoded

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
        tokens = tokenize_items(items, self.source_tokenizer_, "X", require_tokens=True)
        decoded = self._decode([self.source_vocab_.encode(t) for t in tokens])
        outputs = np.empty(len(decoded), dtype=object)
        for index, ids in enumerate(decoded):
            output = self.target_vocab_.decode(ids)
            if self.target_is_text_:
                output = self.target_tokenizer_.detokenize(output)
            outputs[index] = output
        return outputs

    def score(self, X, y):
        """Exact-match accuracy: the fraction of outputs equal to ``y``.

        Returns
        -------
        float
        """
        items, _ = check_text_sequences(y, "y")
        return sequence_accuracy(items, self.predict(X))
