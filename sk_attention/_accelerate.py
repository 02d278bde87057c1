"""Data-parallel and mixed-precision training through Hugging Face accelerate.

The accelerated estimators are the library's estimators with one change:
the skorch net they build in ``fit`` trains through skorch's
:class:`~skorch.hf.AccelerateMixin`. Launched as several processes
(``torchrun`` or ``accelerate launch``), each process trains on its share
of the batches and DistributedDataParallel averages the gradients; launched
as a plain script they train as one process. Mixed precision comes from the
launcher (``accelerate launch --mixed_precision bf16``) or the
``ACCELERATE_MIXED_PRECISION`` environment variable.

Four things differ from skorch's mixin as it stands, each needed for a
correct multi-process run:

- Only criteria with trainable parameters are prepared. The losses used
  here have none, and DistributedDataParallel refuses such a module.
- The net is prepared for the duration of ``partial_fit`` only. Outside
  training it holds plain modules, so prediction, ``save``/``load`` and
  early stopping's restore of the best weights see the keys they expect.
- Batches of varying size (length-bucketed batches) are dealt out whole,
  batch by batch, and torch's global generator, which orders them, is
  synchronised from the main process at each epoch. Without that,
  processes would drop batches or see overlapping shares.
- The epoch's losses are averaged over the processes before any callback
  reads them, so early stopping and checkpoints decide alike everywhere
  (a process that stops alone would leave the others waiting forever).
"""

from numbers import Integral

import torch
from skorch import NeuralNet
from skorch.callbacks import Callback, GradientNormClipping, LRScheduler
from skorch.hf import AccelerateMixin
from torch.utils.data import BatchSampler, DataLoader, Sampler

from ._pooling._estimator import (
    AttentionPooling,
    AttentionPoolingClassifier,
    AttentionPoolingRegressor,
)
from ._seq2seq._estimator import AttentionSeq2Seq

__all__ = [
    "AcceleratedAttentionPooling",
    "AcceleratedAttentionPoolingClassifier",
    "AcceleratedAttentionPoolingRegressor",
    "AcceleratedAttentionSeq2Seq",
]


class _AverageLosses(Callback):
    """Replace the epoch's losses by their mean over all processes.

    It runs right after skorch's loss scoring and before every other
    callback, and recomputes the ``*_best`` flags from the averaged values.
    """

    def on_epoch_end(self, net, **kwargs):
        accelerator = net.accelerator
        row = net.history[-1]
        for key in ("train_loss", "valid_loss"):
            if key not in row:
                continue
            local = torch.tensor(float(row[key]), device=accelerator.device)
            value = accelerator.reduce(local, reduction="mean").item()
            earlier = net.history[:-1, key] if len(net.history) > 1 else []
            net.history.record(key, value)
            if f"{key}_best" in row:
                net.history.record(f"{key}_best", all(value < v for v in earlier))


class _AcceleratedGradientClipping(GradientNormClipping):
    """Gradient-norm clipping that unscales fp16 gradients first."""

    def on_grad_computed(self, net, named_parameters, **kwargs):
        if self.gradient_clip_value is None:
            return
        net.accelerator.clip_grad_norm_(
            [p for _, p in named_parameters],
            max_norm=self.gradient_clip_value,
            norm_type=self.gradient_clip_norm_type,
        )


class _WholeBatches(Sampler):
    """A batch sampler seen without a ``batch_size``.

    accelerate deals out the batches of a sampler that has no
    ``batch_size`` whole, one per process in turn; with one, it assumes
    every batch but the last is full and drops the short ones that
    length-bucketing produces mid-epoch.
    """

    def __init__(self, batches):
        self.batches = batches

    def __iter__(self):
        return iter(self.batches)

    def __len__(self):
        return len(self.batches)


class _AcceleratedNet(AccelerateMixin, NeuralNet):
    """A skorch net prepared by accelerate while it trains, plain otherwise."""

    def initialize(self):
        # NeuralNet's initialize without the mixin's preparation: the net is
        # prepared in partial_fit only.
        return super(AccelerateMixin, self).initialize()

    def partial_fit(self, X, y=None, classes=None, **fit_params):
        if not self.initialized_:
            self.initialize()
        self._initialize_accelerator()
        try:
            return super().partial_fit(X, y, classes=classes, **fit_params)
        finally:
            self._unwrap_accelerator()

    def _initialize_accelerator(self):
        if self._wrapped_with_accelerator:
            return self
        prepare = self.accelerator.prepare
        for name in self._criteria + self._modules:
            component = getattr(self, name + "_")
            # DistributedDataParallel refuses a module with nothing to train.
            if isinstance(component, torch.nn.Module) and any(
                p.requires_grad for p in component.parameters()
            ):
                setattr(self, name + "_", prepare(component))
        for name in self._optimizers:
            optimizer = getattr(self, name + "_")
            if isinstance(optimizer, torch.optim.Optimizer):
                setattr(self, name + "_", prepare(optimizer))
        for _, callback in self.callbacks_:
            if isinstance(callback, LRScheduler):
                callback.policy_ = prepare(callback.policy_)
        self._wrapped_with_accelerator = True
        return self

    def _unwrap_accelerator(self):
        if not self._wrapped_with_accelerator:
            return
        for name in self._optimizers:
            optimizer = getattr(self, name + "_")
            # accelerate's AcceleratedOptimizer keeps the original here.
            setattr(self, name + "_", getattr(optimizer, "optimizer", optimizer))
        super()._unwrap_accelerator()

    def get_iterator(self, dataset, training=False):
        loader = super(AccelerateMixin, self).get_iterator(dataset, training)
        if self.accelerator.num_processes > 1 and not isinstance(
            loader.batch_sampler, (BatchSampler, type(None))
        ):
            loader = DataLoader(
                loader.dataset,
                batch_sampler=_WholeBatches(loader.batch_sampler),
                collate_fn=loader.collate_fn,
                num_workers=loader.num_workers,
                pin_memory=loader.pin_memory,
            )
        return self.accelerator.prepare(loader)


def _make_accelerator(device):
    """An :class:`accelerate.Accelerator` for an estimator's ``device``.

    The device type comes from the estimator (``"cpu"`` keeps every process
    on the CPU), the device index from the launcher (process ``i`` of a node
    uses ``cuda:i``). Torch's global generator is synchronised at each epoch
    because it orders the batches.
    """
    from accelerate import Accelerator

    return Accelerator(
        cpu=torch.device(device).type == "cpu",
        device_placement=False,
        rng_types=["torch"],
    )


class _AcceleratedMixin:
    """Build the estimator's skorch net as an accelerated one."""

    def _make_net(self, *args, **kwargs):
        accelerator = _make_accelerator(self.device)
        if accelerator.num_processes > 1 and not isinstance(
            self.random_state, Integral
        ):
            raise ValueError(
                f"random_state must be an int when training on "
                f"{accelerator.num_processes} processes, got {self.random_state!r}: "
                "every process must draw the same weights, validation split and "
                "batch order."
            )
        net = super()._make_net(*args, **kwargs)
        params = {
            name: value
            for name, value in net.get_params(deep=False).items()
            if not name.startswith("_")
        }
        callbacks = [_clip_after_unscaling(item) for item in params["callbacks"] or []]
        params["callbacks"] = [("average_losses", _AverageLosses()), *callbacks]
        device = accelerator.device
        # Multi-process CPU runs report "cpu:<rank>", which torch cannot load.
        params["device"] = "cpu" if device.type == "cpu" else str(device)
        # skorch's PrintLog ignores verbose=0 for any sink but print itself.
        sink = accelerator.print if params["verbose"] else _discard
        return _AcceleratedNet(
            accelerator=accelerator,
            # partial_fit unwraps, after the callbacks' on_train_end.
            unwrap_after_train=False,
            callbacks__print_log__sink=sink,
            **params,
        )


def _discard(*args, **kwargs):
    """A PrintLog sink for ``verbose=0``."""


def _clip_after_unscaling(callback):
    """Swap skorch's gradient clipping, named or not, for the accelerate one."""
    name, instance = callback if isinstance(callback, tuple) else (None, callback)
    if type(instance) is not GradientNormClipping:
        return callback
    clipping = _AcceleratedGradientClipping(
        instance.gradient_clip_value, instance.gradient_clip_norm_type
    )
    return clipping if name is None else (name, clipping)


_NOTES = """
    Notes
    -----
    Launch a script that calls ``fit`` on every process, e.g.
    ``torchrun --nproc_per_node 4 train.py`` or ``accelerate launch
    --multi_gpu --num_processes 4 --mixed_precision bf16 train.py``. Every process must
    see the same data and the same int ``random_state``. Each process
    trains on every ``n``-th batch (``batch_size`` is per process), the
    gradients are averaged, and the losses in ``history_`` are means over
    the processes. Afterwards every process holds the same trained model;
    save it from one (``net_.accelerator.is_main_process``) with ``save``,
    and read it back with this class's ``load``, which unpickles nothing
    and leaves the launch's ``Accelerator`` behind. With ``device="cpu"``
    the processes communicate with gloo, otherwise process ``i`` of a node
    uses ``cuda:i`` with NCCL. See the "Scaling out" page of the
    documentation.
"""


class AcceleratedAttentionSeq2Seq(_AcceleratedMixin, AttentionSeq2Seq):
    __doc__ = f""":class:`~sk_attention.AttentionSeq2Seq` trained through accelerate.

    Data-parallel training on several processes (GPUs, or CPU processes
    with gloo) and mixed precision, through skorch's ``AccelerateMixin``.
    Parameters, attributes and methods are those of
    :class:`~sk_attention.AttentionSeq2Seq`; ``net_.accelerator`` is the
    :class:`accelerate.Accelerator` that trained the network.
    {_NOTES}
    Examples
    --------
    Run as a plain script, it trains as one process:

    >>> from sk_attention.distributed import AcceleratedAttentionSeq2Seq
    >>> X = ["abc", "bca", "cab", "acb", "bac", "cba"] * 20
    >>> y = [x[::-1] for x in X]
    >>> model = AcceleratedAttentionSeq2Seq(
    ...     hidden_size=32, embedding_dim=16, max_epochs=30, lr=0.01,
    ...     validation_fraction=None, early_stopping=False, random_state=0,
    ... ).fit(X, y)
    >>> model.net_.accelerator.num_processes
    1
    >>> model.predict(["abc", "cab"])
    array(['cba', 'bac'], dtype=object)
    """


class AcceleratedAttentionPooling(_AcceleratedMixin, AttentionPooling):
    __doc__ = f""":class:`~sk_attention.AttentionPooling` trained through accelerate.

    Parameters, attributes and methods are those of
    :class:`~sk_attention.AttentionPooling`. ``fit(X)`` without ``y``
    trains nothing, so it runs as in the plain transformer.
    {_NOTES}
    Examples
    --------
    >>> import numpy as np
    >>> from sk_attention.distributed import AcceleratedAttentionPooling
    >>> rng = np.random.RandomState(0)
    >>> X = rng.normal(size=(40, 6, 3))
    >>> y = (X[:, :, 0].max(axis=1) > 1).astype(int)
    >>> pool = AcceleratedAttentionPooling(hidden_layer_sizes=(8,), max_epochs=2,
    ...                                    random_state=0).fit(X, y)
    >>> pool.transform(X).shape
    (40, 8)
    """


class AcceleratedAttentionPoolingClassifier(
    _AcceleratedMixin, AttentionPoolingClassifier
):
    __doc__ = f""":class:`~sk_attention.AttentionPoolingClassifier` trained \
through accelerate.

    Parameters, attributes and methods are those of
    :class:`~sk_attention.AttentionPoolingClassifier`.
    {_NOTES}
    Examples
    --------
    >>> import numpy as np
    >>> from sk_attention.distributed import (
    ...     AcceleratedAttentionPoolingClassifier)
    >>> rng = np.random.RandomState(0)
    >>> X = rng.normal(size=(60, 5, 2))
    >>> y = (X[:, :, 0].max(axis=1) > 1).astype(int)
    >>> clf = AcceleratedAttentionPoolingClassifier(max_epochs=5,
    ...                                             random_state=0).fit(X, y)
    >>> clf.predict_proba(X[:3]).shape
    (3, 2)
    """


class AcceleratedAttentionPoolingRegressor(
    _AcceleratedMixin, AttentionPoolingRegressor
):
    __doc__ = f""":class:`~sk_attention.AttentionPoolingRegressor` trained \
through accelerate.

    Parameters, attributes and methods are those of
    :class:`~sk_attention.AttentionPoolingRegressor`.
    {_NOTES}
    Examples
    --------
    >>> import numpy as np
    >>> from sk_attention.distributed import AcceleratedAttentionPoolingRegressor
    >>> rng = np.random.RandomState(0)
    >>> X = rng.normal(size=(50, 5, 2))
    >>> y = X[:, :, 0].max(axis=1)
    >>> reg = AcceleratedAttentionPoolingRegressor(max_epochs=5,
    ...                                            random_state=0).fit(X, y)
    >>> reg.predict(X[:4]).shape
    (4,)
    """
