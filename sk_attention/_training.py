"""skorch wiring shared by every estimator: seeding, validation split,
callbacks, devices and the hyper-parameter constraints that go with them.

Each estimator builds a :class:`skorch.NeuralNet` inside ``fit`` (stored as
``net_``) from its own keyword arguments, so scikit-learn's parameter
validation and ``get_params`` stay clean while skorch runs the training
loop, the validation split, early stopping, gradient clipping and the
history.
"""

import contextlib
from numbers import Integral, Real

import numpy as np
import torch
from skorch.callbacks import EarlyStopping, GradientNormClipping
from skorch.dataset import ValidSplit
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions

__all__ = [
    "TRAINING_CONSTRAINTS",
    "check_device",
    "make_callbacks",
    "make_optimizer",
    "make_train_split",
    "seeded",
    "torch_seed",
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
        If the string is not a device torch knows, or CUDA is asked for on a
        machine without it.
    """
    try:
        device = torch.device(device)
    except RuntimeError as error:
        raise ValueError(f"device={device!r} is not a valid torch device: {error}")
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(
            f"device={str(device)!r} was requested but CUDA is not available on "
            "this machine; use device='cpu'."
        )
    return device


def make_optimizer(optimizer):
    """The optimizer class for a name or a :class:`torch.optim.Optimizer` class."""
    if isinstance(optimizer, str):
        return _OPTIMIZERS[optimizer]
    return optimizer


def make_train_split(validation_fraction, seed, stratified=False):
    """skorch's ``train_split`` for a validation fraction (None: no split)."""
    if validation_fraction is None:
        return None
    return ValidSplit(validation_fraction, stratified=stratified, random_state=seed)


def make_callbacks(estimator):
    """The default callbacks for an estimator's settings, then the user's.

    Gradient-norm clipping (``gradient_clip``) guards recurrent networks
    against exploding gradients; early stopping (``early_stopping`` with
    ``n_iter_no_change``) watches the validation loss and restores the best
    weights when it ends. User callbacks come last, so they see the epoch as
    the defaults left it.
    """
    if estimator.early_stopping and estimator.validation_fraction is None:
        raise ValueError(
            "early_stopping=True needs a validation split to watch; set "
            "validation_fraction (e.g. 0.1) or early_stopping=False."
        )
    callbacks = []
    if estimator.gradient_clip is not None:
        callbacks.append(
            ("gradient_clip", GradientNormClipping(estimator.gradient_clip))
        )
    if estimator.early_stopping:
        callbacks.append(
            (
                "early_stopping",
                EarlyStopping(
                    patience=estimator.n_iter_no_change,
                    load_best=True,
                    sink=_silent if not estimator.verbose else print,
                ),
            )
        )
    return callbacks + list(estimator.callbacks or [])


def _silent(*args, **kwargs):
    """A sink that drops skorch's messages when ``verbose=0``."""
