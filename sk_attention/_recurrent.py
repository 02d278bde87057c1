"""(Bidirectional) LSTM and GRU layers over padded batches of varied lengths.

:func:`run_recurrent` runs an ``nn.LSTM``/``nn.GRU`` (``batch_first``) so
that padding never reaches a real step: over packed sequences, or one
direction at a time over the padded batch (:func:`run_by_direction`), with
the same weights and outputs either way. The seq2seq encoder and the
recurrent pooling encoders both run this way.

Why two paths: packed, both directions of a layer run in one fused call and
padding costs nothing, which makes it the faster way to run a GRU without
gradients. An LSTM on the CPU runs faster unpacked, by direction (PyTorch's
oneDNN LSTM kernel takes only unpacked input; ``benchmarks/bench_pooling.py``
measures the pooling encoder's inference both ways). And on the CPU the
backward pass of a packed RNN zero-fills a gradient the size of the whole
input at every step, which makes training quadratic in the length. By
direction, each backward direction reads its sequences reversed within
their lengths; training batches are bucketed by length, so the padding
stepped over is small, and its outputs are zeroed, as packing zeroes them.
ONNX export cannot trace packed sequences, so it takes that path too.
"""

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from ._sequences import length_mask, reverse_within_lengths

__all__ = ["run_by_direction", "run_recurrent"]


def run_recurrent(rnn, inputs, lengths):
    """Run ``rnn`` over a padded batch, by the faster of the two paths.

    Packed for a GRU without gradients (and for an LSTM off the CPU), else
    by direction.

    Parameters
    ----------
    rnn : torch.nn.LSTM or torch.nn.GRU
        With ``batch_first=True``.
    inputs : torch.Tensor of shape (batch, n_steps, input_size)
    lengths : torch.LongTensor of shape (batch,)

    Returns
    -------
    outputs : torch.Tensor of shape (batch, n_steps, directions * hidden)
        Zero on padding steps.
    final : torch.Tensor of shape (num_layers, batch, directions * hidden)
        Each layer's state after each sequence's last real step (forward)
        and after its first (backward); the hidden state for an LSTM.
    """
    if (
        torch.is_grad_enabled()
        or torch.onnx.is_in_onnx_export()
        or (isinstance(rnn, nn.LSTM) and inputs.device.type == "cpu")
    ):
        return run_by_direction(rnn, inputs, lengths)
    packed = pack_padded_sequence(
        inputs, lengths.cpu(), batch_first=True, enforce_sorted=False
    )
    outputs, final = rnn(packed)
    outputs, _ = pad_packed_sequence(
        outputs, batch_first=True, total_length=inputs.size(1)
    )  # (batch, n_steps, directions * hidden)
    if isinstance(rnn, nn.LSTM):
        final = final[0]  # the hidden state, not the cell state
    directions = 2 if rnn.bidirectional else 1
    batch = inputs.size(0)
    final = (
        final.view(rnn.num_layers, directions, batch, -1)
        .transpose(1, 2)
        .reshape(rnn.num_layers, batch, -1)
    )  # (num_layers, batch, directions * hidden)
    return outputs, final


def run_by_direction(rnn, inputs, lengths):
    """:func:`run_recurrent` over the padded batch, one direction at a time.

    The parameters are those of ``rnn``, run through the same fused kernel
    (``torch.gru`` / ``torch.lstm``) one layer and direction at a time.
    """
    batch, steps, _ = inputs.shape
    lengths = lengths.to(inputs.device)
    mask = length_mask(lengths, steps)[..., None]  # (batch, n_steps, 1)
    last = (lengths - 1)[:, None, None]  # (batch, 1, 1)
    directions = 2 if rnn.bidirectional else 1
    layer_input, finals = inputs, []
    for layer in range(rnn.num_layers):
        outputs = []
        for direction in range(directions):
            suffix = f"_l{layer}" + ("_reverse" if direction else "")
            read = layer_input
            if direction:
                read = reverse_within_lengths(read, lengths)
            output = _run_one(rnn, read, suffix)  # (batch, n_steps, hidden)
            if direction:
                output = reverse_within_lengths(output, lengths)
                final = output[:, 0]  # the reversed run ends at step 0
            else:
                final = output.gather(1, last.expand(-1, 1, output.size(2)))
                final = final[:, 0]  # (batch, hidden)
            outputs.append(output)
            finals.append(final)
        layer_input = torch.cat(outputs, dim=2)  # (batch, n_steps, dirs * hidden)
        if layer < rnn.num_layers - 1:
            layer_input = F.dropout(layer_input, rnn.dropout, rnn.training)
    final = torch.stack(finals).view(rnn.num_layers, directions, batch, -1)
    final = final.transpose(1, 2).reshape(rnn.num_layers, batch, -1)
    return layer_input * mask, final


def _run_one(rnn, inputs, suffix):
    """One layer and direction of ``rnn`` over a padded batch."""
    weights = [
        getattr(rnn, name + suffix)
        for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")
    ]
    zeros = inputs.new_zeros(1, inputs.size(0), rnn.hidden_size)
    lstm = isinstance(rnn, nn.LSTM)
    state = (zeros, zeros) if lstm else zeros
    # (input, hx, params, has_biases, num_layers, dropout, train,
    #  bidirectional, batch_first), as nn.GRU / nn.LSTM call it. cuDNN keeps
    # what its backward pass needs only when told it is training.
    run = torch.lstm if lstm else torch.gru
    return run(inputs, state, weights, True, 1, 0.0, rnn.training, False, True)[0]
