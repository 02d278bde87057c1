"""Writing a fitted estimator as ONNX graphs with their metadata (torch).

Each graph goes through the one of PyTorch's two exporters that keeps its
lengths dynamic. The TorchScript-based exporter (``dynamo=False``) writes
the recurrent encoder as ONNX ``GRU``/``LSTM`` operators over any length,
where the ``torch.export``-based one (``dynamo=True``) unrolls them over the
example's steps; it also writes the pooling graphs and the recurrent
decoder step. The Transformer needs ``torch.export``: the TorchScript
tracer turns the decoder's ``x.size(1) > 1`` (one new position or a whole
target) into a tensor, which ``scaled_dot_product_attention`` refuses.
Every axis but the features is dynamic: batch, source length and, for the
Transformer's key/value cache, the number of positions decoded.
"""

import copy
import inspect
import json
import logging
import warnings
from pathlib import Path

import torch
from sklearn.utils.validation import check_is_fitted

from .._pooling._base import BaseAttentionPooling
from .._seq2seq._estimator import AttentionSeq2Seq
from .._text import BOS, UNK
from ._format import FORMAT_VERSION, GRAPH_FILES, METADATA_KEY, require
from ._graphs import DecoderStepGraph, EncoderGraph, PoolingGraph, flatten

__all__ = ["export_estimator"]

#: The ONNX operator set of the graphs, the first that the torch.export-based
#: exporter writes.
OPSET = 18


def export_estimator(estimator, path, quantize):
    """Write ``estimator`` to the directory ``path``.

    See :func:`sk_attention.onnx.export`.

    Returns
    -------
    pathlib.Path
    """
    onnx = require("onnx", "sk_attention.onnx.export")
    if quantize:
        require("onnxruntime", "sk_attention.onnx.export(quantize=True)")
    if isinstance(estimator, AttentionSeq2Seq):
        family, graphs, metadata = "seq2seq", _seq2seq_graphs, _seq2seq_metadata
    elif isinstance(estimator, BaseAttentionPooling):
        family, graphs, metadata = "pooling", _pooling_graphs, _pooling_metadata
    else:
        raise TypeError(
            "sk_attention.onnx.export takes a fitted AttentionSeq2Seq, "
            "AttentionPooling, AttentionPoolingClassifier or "
            f"AttentionPoolingRegressor, got {type(estimator).__name__}."
        )
    check_is_fitted(estimator)
    info = metadata(estimator)  # validates before anything is written
    # A copy on the CPU in eval mode: exporting changes no fitted model.
    module = copy.deepcopy(estimator.module_).cpu().eval()
    directory = Path(path)
    directory.mkdir(parents=True, exist_ok=True)
    specs, extra = graphs(estimator, module)
    info = {
        "format_version": FORMAT_VERSION,
        "estimator": type(estimator).__name__,
        "family": family,
        "quantized": bool(quantize),
        **info,
        **extra,
    }
    for name, spec in zip(GRAPH_FILES[family], specs):
        target = directory / name
        _trace(target, *spec)
        if quantize:
            _quantize(target)
        model = onnx.load(str(target))
        entry = model.metadata_props.add()
        entry.key, entry.value = METADATA_KEY, json.dumps(info)
        onnx.save(model, str(target))
    return directory


def _trace(target, graph, inputs, input_names, output_names, dynamic_axes, dynamo):
    options = {"dynamic_axes": dynamic_axes}
    if dynamo:
        options = {
            "dynamic_shapes": _dynamic_shapes(graph, input_names, dynamic_axes),
            "external_data": False,
            "verbose": False,
        }
    with torch.no_grad(), warnings.catch_warnings():
        # The exporters warn about every shape they read as a Python number;
        # each such shape is fixed by design (features, one new token).
        warnings.simplefilter("ignore")
        torch.onnx.export(
            graph.eval(),
            inputs,
            str(target),
            input_names=input_names,
            output_names=output_names,
            opset_version=OPSET,
            dynamo=dynamo,
            **options,
        )


def _dynamic_shapes(graph, input_names, dynamic_axes):
    """``dynamic_axes`` as ``torch.export`` takes them, by forward argument.

    A ``*inputs`` argument takes the specs of all the inputs left.
    """
    specs = [
        {axis: torch.export.Dim.DYNAMIC for axis in dynamic_axes.get(name, {})}
        for name in input_names
    ]
    shapes = {}
    for index, (name, parameter) in enumerate(
        inspect.signature(graph.forward).parameters.items()
    ):
        if parameter.kind is parameter.VAR_POSITIONAL:
            shapes[name] = tuple(specs[index:])
        else:
            shapes[name] = specs[index]
    return shapes


def _quantize(target):
    """Replace a graph by its int8 dynamic quantization (weights in int8)."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    quantized = target.with_suffix(".int8.onnx")
    # The quantizer logs a warning for every tensor it leaves in float
    # (integer shapes, the recurrent operators it has no int8 kernel for).
    previous = logging.root.manager.disable
    logging.disable(logging.WARNING)
    try:
        quantize_dynamic(target, quantized, weight_type=QuantType.QInt8)
    finally:
        logging.disable(previous)
    quantized.replace(target)


# -- attention pooling --------------------------------------------------------


def _pooling_metadata(estimator):
    if estimator.vocabulary_ is not None:
        raise ValueError(
            f"This {type(estimator).__name__} was fitted on text; exporting it "
            "is not supported yet, because the runtime would have to tokenize "
            "without torch. Export a model fitted on numeric sequences."
        )
    if estimator.input_layout != "steps_first":
        raise ValueError(
            f"input_layout={estimator.input_layout!r} is not supported by the "
            "exported runtime, which reads (n_samples, n_steps, n_features); "
            "refit with input_layout='steps_first' (transpose X) to export."
        )
    return {
        "config": estimator._encoding_to_config(estimator._fitted_encoding()),
        "n_pooled": int(estimator.module_.n_pooled),
        "batch_size": 1024,
    }


def _pooling_graphs(estimator, module):
    with_head = hasattr(estimator, "predict")
    X = torch.zeros((2, 3, estimator.n_features_in_))
    lengths = torch.tensor([3, 2])
    outputs = ["pooled", "weights", *(["scores"] if with_head else [])]
    axes = {
        "X": {0: "batch", 1: "steps"},
        "lengths": {0: "batch"},
        "pooled": {0: "batch"},
        "weights": {0: "batch", 2: "steps"},
        "scores": {0: "batch"},
    }
    spec = (
        PoolingGraph(module, with_head),
        (X, lengths),
        ["X", "lengths"],
        outputs,
        {name: axes[name] for name in ["X", "lengths", *outputs]},
        False,
    )
    return [spec], {"outputs": outputs}


# -- sequence to sequence -----------------------------------------------------


def _seq2seq_metadata(estimator):
    tokenizers = {}
    for side in ("source", "target"):
        tokenizer = getattr(estimator, f"{side}_tokenizer_")
        if tokenizer.name == "custom":
            raise ValueError(
                f"{side}_tokenizer is a custom callable, which an ONNX export "
                "cannot hold; train with 'char', 'word', 'bpe', 'unigram' or a "
                "tokenizers.Tokenizer to export the model."
            )
        tokenizers[side] = tokenizer.name
    if estimator.architecture == "transformer":
        require("onnxscript", "sk_attention.onnx.export of a Transformer")
    return {
        "config": estimator._encoding_to_config(estimator._fitted_encoding()),
        "architecture": estimator.architecture,
        "tokenizers": tokenizers,
        "decoding": {
            "beam_size": estimator.beam_size,
            "length_penalty": estimator.length_penalty,
            "batch_size": estimator.predict_batch_size,
        },
    }


def _seq2seq_graphs(estimator, module):
    architecture = estimator.architecture
    source = torch.full((2, 3), UNK)
    lengths = torch.tensor([3, 2])
    encoder = EncoderGraph(module, architecture)
    with torch.no_grad():
        leaves, structure = flatten(
            module.decoder.start(module.encode(source, lengths))
        )
        encoded = encoder.eval()(source, lengths)
    n_state = len(leaves)
    n_memory = len(encoded) - n_state
    memory_names = [f"memory_{i}" for i in range(n_memory)]
    state_names = [f"state_{i}" for i in range(n_state)]
    next_names = [f"next_state_{i}" for i in range(n_state)]
    # Axes past the batch: the source steps of the memory, and the cached
    # positions of the Transformer's state.
    if architecture == "rnn":
        memory_axes = [{0: "batch", 1: "source_steps"}] * n_memory
        state_axes = [{0: "batch"}] * n_state
        next_axes = state_axes
    else:
        memory_axes = [{0: "batch", 1: "source_steps"}] + [
            {0: "batch", 2: "source_steps"}
        ] * (n_memory - 1)
        state_axes = [{0: "batch", 2: "decoded"}] * n_state
        next_axes = [{0: "batch", 2: "decoded_next"}] * n_state
    encoder_spec = (
        encoder,
        (source, lengths),
        ["source", "lengths"],
        memory_names + state_names,
        {
            "source": {0: "batch", 1: "source_steps"},
            "lengths": {0: "batch"},
            **dict(zip(memory_names + state_names, memory_axes + state_axes)),
        },
        architecture == "transformer",
    )
    step = DecoderStepGraph(module, architecture, n_memory, structure)
    tokens = torch.full((2,), BOS)
    with torch.no_grad():
        # The example state has one decoded position, so that no axis of
        # the trace is empty.
        state = step.eval()(tokens, *encoded)[1:]
    decoder_spec = (
        step,
        (tokens, *encoded[:n_memory], *state),
        ["tokens", *memory_names, *state_names],
        ["log_probs", *next_names],
        {
            "tokens": {0: "batch"},
            "log_probs": {0: "batch"},
            **dict(zip(memory_names, memory_axes)),
            **dict(zip(state_names, state_axes)),
            **dict(zip(next_names, next_axes)),
        },
        architecture == "transformer",
    )
    return [encoder_spec, decoder_spec], {"n_memory": n_memory}
