"""Step encoders of the attention pooling network, selected by name.

An encoder turns the steps of a padded batch into one state per step, which
the attention then pools. Every encoder is a :class:`torch.nn.Module` with
the same interface and knows nothing of scikit-learn:

``__init__(input_size, **parameters)``
    ``parameters`` are the estimator parameters the class declares in its
    ``estimator_parameters`` attribute, under the same names (not
    ``parameters``, which would hide :meth:`torch.nn.Module.parameters`).
``forward(X, lengths, mask)``
    ``X`` is ``(batch, n_steps, input_size)``, ``lengths`` ``(batch,)`` and
    ``mask`` the boolean ``(batch, n_steps)`` mask of the real steps; it
    returns the states, ``(batch, n_steps, output_size)``. The states of a
    sequence's real steps never depend on its padding (every encoder masks
    or orders its input so that padding cannot reach them).
``output_size``, ``step_width``, ``chunk_scale``
    The width of the states, of the widest per-step intermediate, and how
    many times the default number of values an inference chunk should hold
    (the last two size inference chunks).

:data:`SEQUENCE_ENCODERS` maps each name the ``encoder`` parameter accepts
to its class; ``encoder=None`` is :class:`StepMLP`, the order-free per-step
network for bags and sets.
"""

import math

import torch
import torch.nn.functional as F
from torch import nn

from .._recurrent import run_recurrent
from .._sequences import StepsInOneRow

__all__ = [
    "ConvEncoder",
    "FCNEncoder",
    "GRUEncoder",
    "LSTMEncoder",
    "SEQUENCE_ENCODERS",
    "StepMLP",
    "TransformerEncoder",
    "encoder_class",
]


class StepMLP(nn.Sequential):
    """Order-free: the same MLP (linear + ReLU + dropout) on every step.

    A sequence is treated as a bag: permuting its steps permutes the states.
    With no hidden layer the states are the input itself.
    """

    estimator_parameters = ("hidden_layer_sizes", "dropout")
    chunk_scale = 1

    def __init__(self, input_size, hidden_layer_sizes=(64, 64), dropout=0.0):
        layers, width = [], input_size
        for size in hidden_layer_sizes:
            layers += [nn.Linear(width, size), nn.ReLU(), nn.Dropout(dropout)]
            width = size
        super().__init__(*layers)
        self.output_size = width
        self.step_width = max((input_size, *hidden_layer_sizes))

    def forward(self, X, lengths, mask):
        return super().forward(X)  # (batch, n_steps, output_size)


class _RecurrentEncoder(nn.Module):
    """Bidirectional recurrent layers, ``encoder_size // 2`` units per direction.

    Run by :func:`~sk_attention._recurrent.run_recurrent`, as the seq2seq
    encoder is: one direction at a time over the padded, length-bucketed
    batch in training, the backward one reading each sequence reversed
    within its length, and packed at inference where that is faster. Either
    way padding never reaches a real step's state.
    """

    estimator_parameters = ("encoder_size", "encoder_layers", "dropout")
    cell = None  # nn.GRU or nn.LSTM, set by the subclasses
    # Steps run one after another, each kernel call's fixed cost shared by the
    # chunk's rows: larger chunks predict faster (bench_pooling.py, section 4).
    chunk_scale = 2

    def __init__(self, input_size, encoder_size=64, encoder_layers=1, dropout=0.0):
        super().__init__()
        units = max(1, encoder_size // 2)
        self.rnn = self.cell(
            input_size,
            units,
            num_layers=encoder_layers,
            batch_first=True,
            bidirectional=True,
            dropout=dropout if encoder_layers > 1 else 0.0,
        )
        self.output_size = 2 * units
        self.step_width = max(input_size, self.output_size)

    def forward(self, X, lengths, mask):
        return run_recurrent(self.rnn, X, lengths)[0]  # (batch, n_steps, output)


class GRUEncoder(_RecurrentEncoder):
    """Bidirectional GRU (Cho et al., 2014) states, as in Yang et al. (2016)."""

    cell = nn.GRU


class LSTMEncoder(_RecurrentEncoder):
    """Bidirectional LSTM (Hochreiter and Schmidhuber, 1997) states, as in
    Lin et al. (2017)."""

    cell = nn.LSTM


class ConvEncoder(nn.Module):
    """Stacked residual 1-D convolutions, dilated, same length as the input.

    A first convolution of width ``kernel_size`` (and a ReLU) maps the input
    to ``encoder_size`` channels, so that even the state of a univariate
    step describes the local shape around it, not one value (as the fully
    convolutional networks of Wang et al., 2017 do); block ``i`` then adds
    ``dropout(relu(conv_i(layer_norm(h))))`` to ``h``, with ``conv_i`` of
    width ``kernel_size`` and dilation ``2**i``, so the receptive field grows
    exponentially with depth (as in WaveNet and temporal convolutional
    networks). The input of every convolution is zeroed on padding steps,
    which is exactly what the convolution's own zero padding beyond the end
    of an unpadded sequence is: padding never changes a real step.
    """

    estimator_parameters = ("encoder_size", "encoder_layers", "kernel_size", "dropout")
    chunk_scale = 1

    def __init__(
        self, input_size, encoder_size=64, encoder_layers=2, kernel_size=5, dropout=0.0
    ):
        super().__init__()
        self.projection = _same_length_convolution(
            input_size, encoder_size, kernel_size
        )
        self.norms = nn.ModuleList(
            nn.LayerNorm(encoder_size) for _ in range(encoder_layers)
        )
        self.convolutions = nn.ModuleList(
            _same_length_convolution(
                encoder_size, encoder_size, kernel_size, dilation=2**layer
            )
            for layer in range(encoder_layers)
        )
        self.dropout = nn.Dropout(dropout)
        self.output_size = encoder_size
        self.step_width = max(input_size, 2 * encoder_size)

    def forward(self, X, lengths, mask):
        keep = mask[..., None].to(X.dtype)  # (batch, n_steps, 1)
        states = _same_length(self.projection, (X * keep).transpose(1, 2))
        states = states.transpose(1, 2)
        states = F.relu(states) * keep  # (batch, n_steps, size)
        for norm, convolution in zip(self.norms, self.convolutions):
            inputs = (norm(states) * keep).transpose(1, 2)  # (batch, size, n_steps)
            update = F.relu(_same_length(convolution, inputs)).transpose(1, 2)
            states = states + self.dropout(update) * keep  # (batch, n_steps, size)
        return states


def _same_padding(kernel_size, dilation=1):
    """``(left, right)`` zero steps that keep a convolution's length, the
    left side getting the smaller half as torch's ``padding="same"`` does."""
    total = dilation * (kernel_size - 1)
    return total // 2, total - total // 2


def _same_length_convolution(
    in_channels, out_channels, kernel_size, dilation=1, image=False
):
    """An ``nn.Conv1d`` that pads itself by the symmetric part of "same".

    :func:`_same_length` adds the one step an even kernel needs beyond it.
    The convolution's own padding costs no copy of its input, which an
    explicit pad of a wide input does, in the forward and backward pass.
    With ``image=True``, the ``nn.Conv2d`` with a ``(1, kernel_size)``
    kernel that does the same over ``(batch, C, 1, T)`` images.
    """
    left, _ = _same_padding(kernel_size, dilation)
    if image:
        return nn.Conv2d(
            in_channels, out_channels, (1, kernel_size), dilation=(1, dilation),
            padding=(0, left),
        )
    return nn.Conv1d(
        in_channels, out_channels, kernel_size, dilation=dilation, padding=left
    )


def _same_length(convolution, inputs):
    """``convolution`` with zero padding that keeps the length, as ``"same"``.

    What the convolution does not pad itself is padded explicitly. Not
    ``"same"`` itself: ONNX Runtime cannot run a dilated convolution
    exported with it. The length is the last dimension, so the convolution
    may be a ``Conv2d`` over ``(batch, C, 1, T)`` images.
    """
    kernel, dilation = convolution.kernel_size[-1], convolution.dilation[-1]
    left, right = _same_padding(kernel, dilation)
    own = convolution.padding[-1]
    if (left, right) != (own, own):  # (..., T + left + right - 2 * own)
        inputs = F.pad(inputs, (left - own, right - own))
    return convolution(inputs)


def _steps_as_image(states):
    """``(batch, n_steps, C)`` -> a ``(batch, C, 1, n_steps)`` view.

    The view is channels-last: the memory of the steps, unchanged. oneDNN
    convolves and torch batch-normalises such images faster than
    ``(batch, C, n_steps)`` sequences: on a CPU, a training step of the
    FCN takes 0.82-0.99 of its time on the batch shapes of its recipe.
    """
    return states.transpose(1, 2).unsqueeze(2)


def _image_as_steps(image):
    """``(batch, C, 1, n_steps)`` -> ``(batch, n_steps, C)``."""
    return image.squeeze(2).transpose(1, 2)


class FCNEncoder(nn.Module):
    """The fully convolutional network of Wang et al. (2017) for time series.

    Three convolutions of widths 8, 5 and 3 with ``encoder_size``,
    ``2 * encoder_size`` and ``encoder_size`` channels, each followed by
    batch normalisation and a ReLU, output as long as the input: the body
    of the FCN and ResNet baselines of the UCR/UEA literature (Ismail Fawaz
    et al., 2019). The input of every convolution is zeroed on padding
    steps, so padding never changes a real step. Training convolves a
    ragged batch as one row of its real steps
    (:class:`~sk_attention._sequences.StepsInOneRow`), so that the padding
    costs nothing, and normalises the real steps alone, so that its batch
    statistics are those of the real steps.

    The convolutions are ``Conv2d`` with ``(1, k)`` kernels over the steps
    laid out as a channels-last image (:func:`_steps_as_image`), where the
    CPU kernels of torch are faster than those of ``Conv1d``.
    """

    estimator_parameters = ("encoder_size", "dropout")
    chunk_scale = 1
    kernel_sizes = (8, 5, 3)

    def __init__(self, input_size, encoder_size=64, dropout=0.0):
        super().__init__()
        widths = (encoder_size, 2 * encoder_size, encoder_size)
        self.convolutions = nn.ModuleList()
        self.norms = nn.ModuleList()
        previous = input_size
        for width, kernel in zip(widths, self.kernel_sizes):
            self.convolutions.append(
                _same_length_convolution(previous, width, kernel, image=True)
            )
            self.norms.append(nn.BatchNorm2d(width))
            previous = width
        # Weights in the layout of the images, so that no convolution
        # reorders them at every call.
        self.convolutions.to(memory_format=torch.channels_last)
        self.dropout = nn.Dropout(dropout)
        self.output_size = encoder_size
        self.step_width = max(input_size, 4 * encoder_size)

    @property
    def row_gap(self):
        """The widest side of any convolution's "same" padding, in steps."""
        return max(
            _same_padding(convolution.kernel_size[-1], convolution.dilation[-1])[1]
            for convolution in self.convolutions
        )

    def forward(self, X, lengths, mask):
        if self.training and not bool(mask.all()):
            return self._convolve_in_one_row(X, StepsInOneRow(mask, self.row_gap))
        # A training batch of equal lengths (most time-series sets) has
        # nothing to mask. Evaluation normalises with the running
        # statistics and masks the padded batch, so that an exported graph
        # does too.
        keep = None if self.training else mask[:, None, None, :].to(X.dtype)
        states = _steps_as_image(X)  # (batch, input_size, 1, n_steps)
        for convolution, norm in zip(self.convolutions, self.norms):
            inputs = states if keep is None else states * keep
            states = self.dropout(F.relu_(norm(_same_length(convolution, inputs))))
        states = states if keep is None else states * keep
        return _image_as_steps(states)  # (batch, n_steps, output_size)

    def _convolve_in_one_row(self, X, row):
        """The blocks over ``row``'s real steps; batch normalisation sees
        them alone, ``(1, width, 1, count)``, so its statistics are theirs."""
        steps = row.real_steps(X)  # (count, input_size)
        for convolution, norm in zip(self.convolutions, self.norms):
            # The convolution pads itself by the symmetric part of "same";
            # the zero steps that end the row stand in for the rest.
            states = convolution(_steps_as_image(row.to_row(steps)[None]))
            states = row.from_row(_image_as_steps(states)[0])  # (count, width)
            states = norm(_steps_as_image(states[None]))  # (1, width, 1, count)
            steps = _image_as_steps(self.dropout(F.relu_(states)))[0]
        return row.to_padded(steps)  # (batch, n_steps, output_size)


class TransformerEncoder(nn.Module):
    """Self-attention blocks with sinusoidal positions (Vaswani et al., 2017).

    A linear layer maps the input to ``encoder_size``, sinusoidal positions
    are added, and each pre-norm block applies multi-head self-attention
    (``torch.nn.functional.scaled_dot_product_attention``, with padding
    keys masked out) and a ReLU feed-forward layer twice as wide, each with a
    residual connection. Padding steps are never attended to, so they never
    change a real step.
    """

    estimator_parameters = (
        "encoder_size", "encoder_layers", "encoder_heads", "dropout"
    )
    chunk_scale = 1

    def __init__(
        self, input_size, encoder_size=64, encoder_layers=2, encoder_heads=4,
        dropout=0.0,
    ):
        super().__init__()
        self.projection = nn.Linear(input_size, encoder_size)
        self.blocks = nn.ModuleList(
            _SelfAttentionBlock(encoder_size, encoder_heads, dropout)
            for _ in range(encoder_layers)
        )
        self.norm = nn.LayerNorm(encoder_size)
        self.dropout = nn.Dropout(dropout)
        self.output_size = encoder_size
        self.step_width = max(input_size, 3 * encoder_size)

    def forward(self, X, lengths, mask):
        steps = X.shape[1]
        states = self.projection(X) + _sinusoids(steps, self.output_size, X)
        states = self.dropout(states)  # (batch, n_steps, size)
        key_mask = mask[:, None, None, :]  # (batch, 1, 1, n_steps)
        for block in self.blocks:
            states = block(states, key_mask)
        return self.norm(states) * mask[..., None]  # (batch, n_steps, size)


class _SelfAttentionBlock(nn.Module):
    """Pre-norm multi-head self-attention and feed-forward, both residual."""

    def __init__(self, size, num_heads, dropout):
        super().__init__()
        self.num_heads = num_heads
        self.attention_norm = nn.LayerNorm(size)
        self.qkv = nn.Linear(size, 3 * size)
        self.out = nn.Linear(size, size)
        self.feedforward_norm = nn.LayerNorm(size)
        self.feedforward = nn.Sequential(
            nn.Linear(size, 2 * size), nn.ReLU(), nn.Linear(2 * size, size)
        )
        self.dropout = nn.Dropout(dropout)

    def forward(self, states, key_mask):
        batch, steps, size = states.shape
        qkv = self.qkv(self.attention_norm(states))  # (batch, n_steps, 3 * size)
        qkv = qkv.view(batch, steps, 3, self.num_heads, size // self.num_heads)
        query, key, value = qkv.permute(2, 0, 3, 1, 4)  # (batch, heads, n_steps, d)
        attended = F.scaled_dot_product_attention(
            query, key, value, attn_mask=key_mask,
            dropout_p=self.dropout.p if self.training else 0.0,
        )  # (batch, heads, n_steps, d)
        attended = attended.transpose(1, 2).reshape(batch, steps, size)
        states = states + self.dropout(self.out(attended))
        update = self.feedforward(self.feedforward_norm(states))
        return states + self.dropout(update)  # (batch, n_steps, size)


def _sinusoids(steps, size, like):
    """The ``(steps, size)`` sinusoidal position table of Vaswani et al."""
    positions = torch.arange(steps, device=like.device, dtype=like.dtype)[:, None]
    rates = torch.exp(
        torch.arange(0, size, 2, device=like.device, dtype=like.dtype)
        * (-math.log(10000.0) / size)
    )
    table = torch.zeros(steps, size, device=like.device, dtype=like.dtype)
    table[:, 0::2] = torch.sin(positions * rates)
    table[:, 1::2] = torch.cos(positions * rates[: size // 2])
    return table


#: ``encoder`` parameter value -> encoder class (None: :class:`StepMLP`).
SEQUENCE_ENCODERS = {
    "gru": GRUEncoder,
    "lstm": LSTMEncoder,
    "conv": ConvEncoder,
    "fcn": FCNEncoder,
    "transformer": TransformerEncoder,
}


def encoder_class(name):
    """The encoder class for an ``encoder`` value (None: :class:`StepMLP`).

    Examples
    --------
    >>> encoder_class("conv").estimator_parameters
    ('encoder_size', 'encoder_layers', 'kernel_size', 'dropout')
    >>> encoder_class(None).__name__
    'StepMLP'
    """
    if name is None:
        return StepMLP
    if name not in SEQUENCE_ENCODERS:
        raise ValueError(
            f"encoder must be None or one of {sorted(SEQUENCE_ENCODERS)}, got {name!r}."
        )
    return SEQUENCE_ENCODERS[name]
