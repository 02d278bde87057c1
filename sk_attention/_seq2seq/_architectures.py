"""The architectures of :class:`AttentionSeq2Seq`, registered in one place.

An :class:`Architecture` says everything the estimator needs to know of one
network: its torch module, how the estimator's parameters become the
module's arguments, the checks that involve several parameters, its
learning-rate schedule, and what its attention can report. Adding an
architecture means writing its module (which implements the decoding
contract of ``_inference.py``) and one entry in :data:`ARCHITECTURES`.
"""

import math
from dataclasses import dataclass
from functools import partial
from typing import Callable

import torch
from skorch.callbacks import LRScheduler

from .._training import time_budget_schedule
from ._model import Seq2SeqModule
from ._transformer import TransformerSeq2SeqModule

__all__ = ["ARCHITECTURES", "Architecture"]


@dataclass(frozen=True)
class Architecture:
    """One network family of :class:`AttentionSeq2Seq`.

    Parameters
    ----------
    module : type
        The :class:`torch.nn.Module` class.
    module_params : callable
        ``(estimator, encoding) -> dict`` of the module's keyword arguments;
        ``encoding`` holds the fitted vocabularies and position bound.
    check_params : callable
        ``(estimator) -> None``; raises a ValueError naming the parameters
        whose combination this architecture cannot build.
    schedule : callable
        ``(estimator) -> list`` of named skorch callbacks that set the
        learning rate, with or without ``max_time``.
    attention_per_head : bool
        Whether ``attention_weights(all_heads=True)`` has per-head weights.
    """

    module: type
    module_params: Callable
    check_params: Callable
    schedule: Callable
    attention_per_head: bool


def _shared_params(estimator, encoding):
    """The arguments every architecture's module takes."""
    return {
        "source_vocab_size": len(encoding["source_vocab_"]),
        "target_vocab_size": len(encoding["target_vocab_"]),
        "num_layers": estimator.num_layers,
        "dropout": estimator.dropout,
    }


def _rnn_params(estimator, encoding):
    return {
        **_shared_params(estimator, encoding),
        "embedding_dim": estimator.embedding_dim,
        "hidden_size": estimator.hidden_size,
        "bidirectional": estimator.bidirectional,
        "cell": estimator.cell,
        "input_feeding": estimator.input_feeding,
        # The module evaluates in float32 whatever the training precision.
        "training_precision": estimator.precision,
        "attention": estimator.attention,
        "attention_size": estimator.attention_size or estimator.hidden_size,
        "attention_dropout": estimator.attention_dropout,
    }


def _check_rnn(estimator):
    if isinstance(estimator.hidden_size, str):
        return  # "auto", checked once resolved
    if estimator.bidirectional and estimator.hidden_size % 2:
        raise ValueError(
            f"hidden_size must be even when bidirectional=True (each "
            f"direction gets half), got {estimator.hidden_size}."
        )


def _rnn_schedule(estimator):
    """Halve the recurrent model's learning rate when decoding stops improving.

    It watches the decoded validation error, ``valid_error``, so it needs a
    validation split; Adam at a constant rate stalls long before the model
    has learned what it can. ``lr_patience`` sets how many epochs without a
    new best it waits. With ``max_time`` the rate anneals to zero at the
    deadline instead (:class:`~sk_attention._training.TimeBudget`).
    """
    if estimator.max_time is not None:
        return time_budget_schedule(estimator)
    if estimator.validation_fraction is None:
        return []
    schedule = LRScheduler(
        policy=torch.optim.lr_scheduler.ReduceLROnPlateau,
        monitor="valid_error",
        mode="min",
        factor=0.5,
        patience=estimator.lr_patience,
    )
    return [("halve_on_plateau", schedule)]


def _transformer_params(estimator, encoding):
    # One width for both architectures in the estimator; the Transformer
    # literature calls it the model size (d_model).
    return {
        **_shared_params(estimator, encoding),
        "model_size": estimator.hidden_size,
        "num_heads": estimator.num_heads,
        "feedforward_size": estimator.feedforward_size or 4 * estimator.hidden_size,
        "attention_dropout": estimator.attention_dropout,
        "positional_encoding": estimator.positional_encoding,
        "max_positions": encoding["_max_positions"],
    }


def _check_transformer(estimator):
    if isinstance(estimator.hidden_size, str):
        return  # "auto", checked once resolved
    if estimator.hidden_size % estimator.num_heads:
        raise ValueError(
            f"hidden_size must be a multiple of num_heads with "
            f"architecture='transformer' (each head gets an equal share), got "
            f"hidden_size={estimator.hidden_size} and "
            f"num_heads={estimator.num_heads}."
        )


def _transformer_schedule(estimator):
    """The Transformer's learning-rate warm-up over ``warmup_steps`` batches.

    Then the rate decays as the inverse square root of the step, or with
    ``max_time`` anneals to zero at the deadline
    (:class:`~sk_attention._training.TimeBudget`, which warms up alike).
    """
    if estimator.max_time is not None:
        return time_budget_schedule(estimator, estimator.warmup_steps)
    if not estimator.warmup_steps:
        return []
    schedule = LRScheduler(
        policy=torch.optim.lr_scheduler.LambdaLR,
        lr_lambda=partial(warmup_factor, warmup_steps=estimator.warmup_steps),
        step_every="batch",
    )
    return [("warmup", schedule)]


def warmup_factor(step, warmup_steps):
    """Linear warm-up, then inverse square-root decay; 1 at ``warmup_steps``.

    ``step`` counts the batches done (0 at the first batch).

    Examples
    --------
    >>> [round(warmup_factor(s, warmup_steps=4), 2) for s in (0, 3, 15)]
    [0.25, 1.0, 0.5]
    """
    step += 1
    return min(step / warmup_steps, math.sqrt(warmup_steps / step))


#: ``architecture`` name -> what the estimator builds for it.
ARCHITECTURES = {
    "rnn": Architecture(
        module=Seq2SeqModule,
        module_params=_rnn_params,
        check_params=_check_rnn,
        schedule=_rnn_schedule,
        attention_per_head=False,
    ),
    "transformer": Architecture(
        module=TransformerSeq2SeqModule,
        module_params=_transformer_params,
        check_params=_check_transformer,
        schedule=_transformer_schedule,
        attention_per_head=True,
    ),
}
