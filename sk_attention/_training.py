"""skorch wiring shared by every estimator: seeding, validation split,
callbacks, devices and the hyper-parameter constraints that go with them.

Each estimator builds a :class:`skorch.NeuralNet` inside ``fit`` (stored as
``net_``) from its own keyword arguments, so scikit-learn's parameter
validation and ``get_params`` stay clean while skorch runs the training
loop, the validation split, early stopping, gradient clipping and the
history. Two guards added here keep failures readable: a loss that stops
being finite ends training with an error naming the likely cause, and a
validation split that cannot be made names ``validation_fraction``.
"""

import collections
import contextlib
import time
from numbers import Integral, Real

import numpy as np
import torch
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from skorch.callbacks import Callback, EarlyStopping, GradientNormClipping
from skorch.dataset import ValidSplit

__all__ = [
    "TRAINING_CONSTRAINTS",
    "CheckpointAveraging",
    "StopOnNonFiniteLoss",
    "TimeBudget",
    "check_device",
    "make_callbacks",
    "make_optimizer",
    "make_train_split",
    "optimizer_options",
    "progress",
    "seeded",
    "torch_seed",
    "trained_module",
]

#: Constraints on the training hyper-parameters every estimator shares.
TRAINING_CONSTRAINTS = {
    "max_epochs": [Interval(Integral, 1, None, closed="left")],
    "batch_size": [Interval(Integral, 1, None, closed="left")],
    "lr": [Interval(Real, 0, None, closed="neither")],
    "optimizer": [StrOptions({"adam", "adamw", "sgd"}), type],
    "validation_fraction": [Interval(Real, 0, 1, closed="neither"), None],
    "early_stopping": ["boolean"],
    "n_iter_no_change": [Interval(Integral, 1, None, closed="left")],
    "gradient_clip": [Interval(Real, 0, None, closed="neither"), None],
    "max_time": [Interval(Real, 0, None, closed="neither"), None],
    "callbacks": [list, None],
    "warm_start": ["boolean"],
    "device": [str, torch.device],
    "random_state": ["random_state"],
    "verbose": ["verbose"],
}

_OPTIMIZERS = {
    "adam": torch.optim.Adam,
    "adamw": torch.optim.AdamW,
    "sgd": torch.optim.SGD,
}


def torch_seed(random_state):
    """An int seed for torch drawn from a scikit-learn ``random_state``."""
    return int(check_random_state(random_state).randint(np.iinfo(np.int32).max))


@contextlib.contextmanager
def seeded(seed, device):
    """Run the body with torch's global generators seeded, then restore them.

    Training draws from torch's global generators (weight initialisation,
    dropout, batch order). Forking them keeps a fit reproducible without
    changing the random state the caller sees afterwards.

    The generators belong to the process: fits running at the same time in
    threads of one process (joblib's ``"threading"`` backend) draw from the
    same ones and are not reproducible. Parallel searches with processes,
    joblib's default, are.
    """
    devices = [device] if torch.device(device).type == "cuda" else []
    with torch.random.fork_rng(devices=devices):
        torch.manual_seed(seed)
        yield


def check_device(device):
    """Return ``device`` as a :class:`torch.device`, checking it is usable.

    Raises
    ------
    ValueError
        If the string is not a device torch knows, is the data-less ``meta``
        device, or names hardware this machine lacks (CUDA, MPS, a GPU
        index beyond the installed ones).

    Examples
    --------
    >>> check_device("cpu")
    device(type='cpu')
    >>> check_device("meta")
    Traceback (most recent call last):
    ...
    ValueError: device='meta' holds no data, ...
    """
    try:
        device = torch.device(device)
    except RuntimeError as error:
        raise ValueError(
            f"device={device!r} is not a valid torch device: {error}"
        ) from None
    if device.type == "meta":
        raise ValueError(
            "device='meta' holds no data, so a model cannot train or predict on "
            "it; use device='cpu' or 'cuda'."
        )
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(
            f"device={str(device)!r} was requested but CUDA is not available on "
            "this machine; use device='cpu'."
        )
    try:
        torch.empty(0, device=device)  # fails early for absent hardware
    except (RuntimeError, AssertionError) as error:
        raise ValueError(
            f"device={str(device)!r} is not usable on this machine: {error}"
        ) from None
    return device


def make_optimizer(optimizer):
    """The optimizer class for a name or a :class:`torch.optim.Optimizer` class."""
    if isinstance(optimizer, str):
        return _OPTIMIZERS[optimizer]
    return optimizer


def optimizer_options(optimizer, device):
    """skorch's ``optimizer__*`` settings for ``optimizer`` on ``device``.

    Adam and AdamW update all parameters in one fused kernel where torch
    has one for the device (CUDA; CPUs from torch 2.4): the same update as
    the loop over parameters, to rounding, without a dozen small operations
    per parameter at every step (7% of a CPU epoch of the large seq2seq
    model in a profile). An optimizer class given by the user is passed on
    as it is.

    Examples
    --------
    >>> optimizer_options("adam", "cpu")  # with torch >= 2.4
    {'optimizer__fused': True}
    >>> optimizer_options(torch.optim.Adam, "cpu")
    {}
    """
    fused_devices = {"cuda", "cpu"} if torch.__version__ >= "2.4" else {"cuda"}
    if optimizer in ("adam", "adamw") and torch.device(device).type in fused_devices:
        return {"optimizer__fused": True}
    return {}


def make_train_split(validation_fraction, seed, stratified=False):
    """skorch's ``train_split`` for a validation fraction (None: no split)."""
    if validation_fraction is None:
        return None
    return _ValidationSplit(
        validation_fraction, stratified=stratified, random_state=seed
    )


class _ValidationSplit(ValidSplit):
    """skorch's split, with errors that name ``validation_fraction``.

    scikit-learn's splitters explain a failed split in their own terms
    (``test_size``, "groups"); the user set ``validation_fraction``.
    """

    def __call__(self, dataset, y=None, groups=None):
        try:
            return super().__call__(dataset, y, groups)
        except ValueError as error:
            how = " stratified by class" if self.stratified else ""
            raise ValueError(
                f"validation_fraction={self.cv} cannot hold out a validation "
                f"split{how} from {len(dataset)} samples: {error} Give more "
                "samples or set validation_fraction=None."
            ) from None


class StopOnNonFiniteLoss(Callback):
    """Stop training with a clear error when the loss becomes NaN or infinite.

    A diverged network otherwise trains on and returns a model that predicts
    garbage. The check runs after every batch (skorch has already moved the
    loss to the CPU to record it, so it costs nothing) and the error names
    the usual cause, a learning rate too high for the data, and the remedy.

    Examples
    --------
    >>> import numpy as np, torch
    >>> from skorch import NeuralNetRegressor
    >>> X = np.ones((8, 1), dtype=np.float32)
    >>> y = np.full((8, 1), np.inf, dtype=np.float32)
    >>> net = NeuralNetRegressor(torch.nn.Linear, module__in_features=1,
    ...                          module__out_features=1, max_epochs=1,
    ...                          train_split=None,
    ...                          callbacks=[StopOnNonFiniteLoss()])
    >>> net.fit(X, y)
    Traceback (most recent call last):
    ...
    ValueError: The training loss became inf at epoch 1, batch 1, ...
    """

    def on_batch_end(self, net, batch=None, training=None, loss=None, **kwargs):
        if loss is None:
            return
        value = loss.item()
        if np.isfinite(value):
            return
        epoch = len(net.history)
        n_batch = len(net.history[-1]["batches"])
        clipping = [
            callback.gradient_clip_value
            for _, callback in getattr(net, "callbacks_", [])
            if isinstance(callback, GradientNormClipping)
        ]
        clip = (
            f"gradient_clip={clipping[0]} did not prevent it"
            if clipping
            else "or set gradient_clip (e.g. 1.0) to bound each update"
        )
        raise ValueError(
            f"The {'training' if training else 'validation'} loss became "
            f"{value} at epoch {epoch}, batch {n_batch}, so training was "
            f"stopped: the network diverged. The likely cause is the learning "
            f"rate: lr={net.lr} is too high for this data; lower it (e.g. "
            f"lr={net.lr / 10:g}), {clip}. Extreme values in X or y can also "
            "cause it."
        )


def make_callbacks(estimator, monitor, lower_is_better, *, schedule, closing=()):
    """The default callbacks for an estimator's settings, then the user's.

    :class:`StopOnNonFiniteLoss` always runs first. Gradient-norm clipping
    (``gradient_clip``) guards recurrent networks against exploding
    gradients. ``schedule`` (named pairs) sets the learning rate: each
    family builds its own, with :func:`time_budget_schedule` under
    ``max_time``. Early stopping (``early_stopping`` with
    ``n_iter_no_change``) watches ``monitor`` in the history (the validation
    loss unless the estimator records a better measure of what it is for)
    and restores the best weights when it ends. ``closing`` (named pairs)
    runs after early stopping, so it sees the weights it restored. User
    callbacks come last, so they see the epoch as the defaults left it.
    """
    callbacks = [("stop_on_non_finite_loss", StopOnNonFiniteLoss())]
    if estimator.gradient_clip is not None:
        callbacks.append(
            ("gradient_clip", GradientNormClipping(estimator.gradient_clip))
        )
    callbacks.extend(schedule)
    if estimator.early_stopping:
        callbacks.append(
            (
                "early_stopping",
                EarlyStopping(
                    monitor=monitor,
                    lower_is_better=lower_is_better,
                    patience=estimator.n_iter_no_change,
                    load_best=True,
                    sink=_silent if not estimator.verbose else print,
                ),
            )
        )
    return callbacks + list(closing) + list(estimator.callbacks or [])


def time_budget_schedule(estimator, warmup_steps=0):
    """``[("time_budget", TimeBudget(...))]`` under ``max_time``, else ``[]``."""
    if estimator.max_time is None:
        return []
    return [("time_budget", TimeBudget(estimator.max_time, warmup_steps))]


def trained_module(net):
    """The torch module a skorch net trains, unwrapped from an accelerator."""
    accelerator = getattr(net, "accelerator", None)
    if accelerator is not None:  # a prepared module may be wrapped
        return accelerator.unwrap_model(net.module_)
    return net.module_


class CheckpointAveraging(Callback):
    """End training with the mean weights of the last epochs, if they validate.

    Averaging the weights of the last few epochs of a run smooths out the
    noise of the final updates and usually generalises better than any one
    of them (Vaswani et al. 2017 average the last checkpoints of every
    Transformer). The callback keeps a CPU copy of the weights of the last
    ``n_checkpoints`` epochs. When training ends it averages the epochs
    that end at the one the network holds: the epoch early stopping
    restored, or the last one. It keeps the mean only if ``score`` of the
    validation split is at least as good as that epoch's ``monitor``, and
    restores the epoch's own weights otherwise.

    It records two entries in the last row of the history: ``"averaged"``,
    the epochs whose mean the network now holds (empty when averaging was
    not kept or not possible), and ``f"{monitor}_averaged"``, the score of
    the mean (None when nothing was averaged).

    Parameters
    ----------
    n_checkpoints : int
        Epochs averaged, the held one included; fewer when training ran
        fewer epochs. 1 averages nothing.
    monitor : str
        The history's column of the validation score of each epoch.
    score : callable
        ``score(net, dataset_valid) -> float`` computes that score for the
        weights the network holds; lower is better.

    Examples
    --------
    >>> import numpy as np, torch
    >>> from skorch import NeuralNetRegressor
    >>> X = np.linspace(-1, 1, 64, dtype=np.float32)[:, None]
    >>> def mse(net, dataset):
    ...     return float(((net.predict(dataset) - 2 * X) ** 2).mean())
    >>> averaging = CheckpointAveraging(3, "valid_loss", mse)
    >>> net = NeuralNetRegressor(torch.nn.Linear, module__in_features=1,
    ...                          module__out_features=1, max_epochs=4,
    ...                          train_split=lambda ds, y: (ds, ds),
    ...                          callbacks=[averaging], verbose=0)
    >>> _ = net.fit(X, 2 * X)
    >>> sorted(k for k in net.history[-1] if "averaged" in k)
    ['averaged', 'valid_loss_averaged']
    """

    def __init__(self, n_checkpoints, monitor, score):
        self.n_checkpoints = n_checkpoints
        self.monitor = monitor
        self.score = score

    def on_train_begin(self, net, **kwargs):
        self.recent_ = collections.deque(maxlen=self.n_checkpoints)
        self.held_window_ = []
        self.dataset_valid_ = None

    def on_epoch_end(self, net, dataset_valid=None, **kwargs):
        self.dataset_valid_ = dataset_valid
        epoch = net.history[-1, "epoch"]
        weights = {
            name: value.detach().to("cpu", copy=True)
            for name, value in trained_module(net).state_dict().items()
        }
        self.recent_.append((epoch, weights))
        if self._held_epoch(net) == epoch:
            self.held_window_ = list(self.recent_)

    def on_train_end(self, net, **kwargs):
        window = self.held_window_
        averaged, score = [], None
        if (
            self.dataset_valid_ is not None
            and len(window) > 1
            and window[-1][0] == self._held_epoch(net)
        ):
            module = trained_module(net)
            held = window[-1][1]
            module.load_state_dict(_mean_state(w for _, w in window))
            score = self.score(net, self.dataset_valid_)
            reference = next(
                row[self.monitor]
                for row in net.history
                if row["epoch"] == window[-1][0]
            )
            if score <= reference:
                averaged = [epoch for epoch, _ in window]
            else:
                module.load_state_dict(held)
        net.history.record("averaged", averaged)
        net.history.record(f"{self.monitor}_averaged", score)

    @staticmethod
    def _held_epoch(net):
        """The epoch whose weights the net ends with (so far)."""
        stopping = dict(getattr(net, "callbacks_", [])).get("early_stopping")
        if isinstance(stopping, EarlyStopping) and stopping.load_best:
            return stopping.best_epoch_
        return net.history[-1, "epoch"]


class TimeBudget(Callback):
    """Train within ``max_time`` seconds, annealing the learning rate to it.

    Knowing when training must end, the schedule can spend the whole budget:
    the learning rate falls linearly from its set value to zero at the end
    of the last epoch that fits (or, if sooner, the net's last of
    ``max_epochs``), as budget-aware training recommends (Li et al.,
    "Budgeted Training", ICLR 2020), instead of waiting for the validation
    error to stall. With ``warmup_steps`` it first rises
    linearly over that many batches. An epoch starts only if it is expected
    to end within the budget (expected to last as long as the previous
    one); the first always runs. Stopping ends ``fit`` as skorch's early
    stopping does, so the other callbacks' train-end hooks still run.

    It sets the rate of every parameter group at each training batch, so it
    replaces any other learning-rate schedule.

    Parameters
    ----------
    max_time : float
        Seconds of wall-clock time from the start of training.
    warmup_steps : int, default=0
        Batches of linear warm-up.
    clock : callable, default=time.monotonic
        Returns the time in seconds.

    Examples
    --------
    >>> import numpy as np, torch
    >>> from skorch import NeuralNetRegressor
    >>> X = np.linspace(-1, 1, 64, dtype=np.float32)[:, None]
    >>> net = NeuralNetRegressor(torch.nn.Linear, module__in_features=1,
    ...                          module__out_features=1, max_epochs=1000,
    ...                          callbacks=[TimeBudget(0.5)], verbose=0)
    >>> len(net.fit(X, 2 * X).history) < 1000
    True
    """

    def __init__(self, max_time, warmup_steps=0, clock=time.monotonic):
        self.max_time = max_time
        self.warmup_steps = warmup_steps
        self.clock = clock

    def on_train_begin(self, net, **kwargs):
        self.started_ = self.clock()
        self.end_ = self.max_time  # seconds in: the end of the last epoch
        self.epoch_started_ = None
        self.epochs_ = 0  # epochs of this fit begun
        self.steps_ = 0
        self.base_lrs_ = [group["lr"] for group in net.optimizer_.param_groups]

    def on_epoch_begin(self, net, **kwargs):
        now = self.clock() - self.started_
        if self.epoch_started_ is not None:
            duration = now - self.epoch_started_
            remaining = int((self.max_time - now) // duration) if duration else 0
            if remaining < 1:
                del net.history[-1]  # the row the net opened for this epoch
                raise KeyboardInterrupt
            # The last epoch is the last that fits, or the last max_epochs allows.
            remaining = min(remaining, net.max_epochs - self.epochs_)
            self.end_ = now + remaining * duration
        self.epoch_started_ = now
        self.epochs_ += 1

    def on_batch_begin(self, net, training=False, **kwargs):
        if not training:
            return
        factor = max(0.0, 1.0 - (self.clock() - self.started_) / self.end_)
        if self.warmup_steps:
            factor *= min(1.0, (self.steps_ + 1) / self.warmup_steps)
        self.steps_ += 1
        for group, base in zip(net.optimizer_.param_groups, self.base_lrs_):
            group["lr"] = base * factor


def _mean_state(states):
    """The element-wise mean of state dicts' floating-point entries (the
    others are taken from the last one)."""
    states = list(states)
    last = states[-1]
    return {
        name: torch.stack([state[name] for state in states]).mean(0)
        if value.is_floating_point()
        else value
        for name, value in last.items()
    }


def _silent(*args, **kwargs):
    """A sink that drops skorch's messages when ``verbose=0``."""


def progress(iterable, verbose, description, total=None):
    """Wrap an inference loop in a progress bar when ``verbose >= 2``.

    Training progress is skorch's (its epoch table, or its ``ProgressBar``
    callback); this covers long ``predict``/``transform`` calls.

    Parameters
    ----------
    iterable : iterable
    verbose : int
    description : str
        Shown before the bar, e.g. ``"predict"``.
    total : int, default=None
        Number of items, if known.

    Returns
    -------
    iterable
        ``iterable`` itself, or a tqdm bar over it.
    """
    if not verbose or verbose < 2:
        return iterable
    from tqdm.auto import tqdm  # a skorch dependency

    return tqdm(iterable, total=total, desc=description, unit="chunk")
