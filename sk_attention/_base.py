"""The spine of every estimator: the order of ``fit``, persistence, warm start.

:class:`AttentionEstimator` owns what the two families must do alike and
leaves each family hooks for what differs:

``fit``
    All checks run first: parameters one by one (scikit-learn's
    ``_parameter_constraints``), then parameters together
    (:meth:`~AttentionEstimator._check_params_together`), the device, and the
    data (:meth:`~AttentionEstimator._prepare_data`, which returns the
    *encoding*: the fitted attributes that describe the data, such as
    vocabularies, classes or target statistics). Only then is a network
    built and trained, and every fitted attribute is assigned in one
    statement at the end. A ``fit`` that raises therefore leaves the
    estimator exactly as it was, fitted or not.
warm start
    With ``warm_start=True`` a fitted estimator continues training its
    network: a new skorch net with the current training settings receives
    the fitted weights, the optimizer state and the history, and keeps the
    fitted encoding (new data is read through the vocabularies or classes of
    the first fit). Settings that would change the network raise a
    ``ValueError`` naming them. The fitted net is not touched until the new
    one has finished training.
``"auto"`` settings
    A setting whose best value depends on the data (width, depth, updates,
    schedule) may default to ``"auto"``. Each estimator class lists the
    rule that resolves it in :attr:`~AttentionEstimator._auto_rules`;
    ``fit`` resolves every rule once the data is validated, builds and
    trains the network from the resolved values, and stores each resolved
    value as the fitted attribute of the parameter's name plus ``_``
    (``hidden_size_``), as scikit-learn resolves ``early_stopping="auto"``.
    The parameters themselves keep ``"auto"``, so ``get_params``, ``clone``
    and grid searches see what the user set. A warm start keeps the values
    the first fit resolved, so that the network it continues is the same.
``save`` / ``load``
    One safetensors file with the settings, the encoding and the history as
    JSON. Loading validates the settings like constructor arguments, names
    any missing or mistyped part of the file, builds the network under a
    forked RNG (the caller's torch and numpy random states are untouched)
    and never unpickles.

Fitted attributes common to all: ``module_`` (the torch network), ``net_``
(the skorch net that trained it, or None) and ``history_``.
"""

import copy
import os
from dataclasses import dataclass
from typing import Any, Callable, Mapping, TypeVar

import torch
from sklearn.base import BaseEstimator
from sklearn.utils.validation import check_is_fitted
from skorch.history import History

from ._persistence import (
    load_model_file,
    loaded_device,
    save_model_file,
    settings_from_json,
    settings_to_json,
)
from ._sequences import bucket_loader
from ._training import (
    TRAINING_CONSTRAINTS,
    check_device,
    make_callbacks,
    make_optimizer,
    make_train_split,
    optimizer_options,
    seeded,
    torch_seed,
)

__all__ = ["AUTO", "AttentionEstimator", "TrainingData"]

#: The parameter value that ``fit`` resolves from the data.
AUTO = "auto"

_Estimator = TypeVar("_Estimator", bound="AttentionEstimator")


@dataclass
class TrainingData:
    """What :meth:`AttentionEstimator._prepare_data` hands to training.

    Parameters
    ----------
    dataset : torch.utils.data.Dataset or None
        The training set; None when there is nothing to train (the module
        from :meth:`AttentionEstimator._untrained_module` is used as is).
    y : ndarray or None, default=None
        Labels for skorch's stratified validation split.
    prepare_module : callable or None, default=None
        Called with a newly built module before training, to set what was
        learned from the data without gradients (e.g. scaling statistics).
        Not called when a warm start continues a fitted module.
    """

    dataset: Any
    y: Any = None
    prepare_module: Callable[[torch.nn.Module], None] | None = None


class AttentionEstimator(BaseEstimator):
    """Base of every estimator of the library; see the module docstring."""

    _parameter_constraints: dict = dict(TRAINING_CONSTRAINTS)

    #: Names of the fitted attributes that form the encoding, in the order
    #: the hooks produce them.
    _encoding_attributes: tuple = ()

    #: What early stopping watches in the history, and whether lower is
    #: better there.
    _selection_metric = ("valid_loss", True)

    #: Parameter name -> ``rule(estimator, encoding, training)``: the value
    #: ``fit`` uses when the parameter is ``"auto"``. ``estimator`` holds the
    #: values resolved so far (rules run in this order), ``encoding`` and
    #: ``training`` are what :meth:`_prepare_data` returned. The rule of
    #: each parameter is written in its docstring.
    _auto_rules: Mapping[str, Callable] = {}

    # -- hooks --------------------------------------------------------------

    def _check_params_together(self):
        """Checks that involve several parameters.

        ``fit`` runs them before any data check, when a setting may still be
        ``"auto"`` (a check skips those), and again on the resolved values.
        """
        stopping = self.early_stopping
        if stopping and not _is_auto(stopping) and self.validation_fraction is None:
            raise ValueError(
                "early_stopping=True needs a validation split to watch; set "
                "validation_fraction (e.g. 0.1) or early_stopping=False."
            )

    def _prepare_data(self, X, y, encoding):
        """Validate ``X`` and ``y`` into ``(encoding, TrainingData)``.

        ``encoding`` is None for a new fit, which learns one from the data,
        or the fitted encoding when a warm start continues, which the data
        must fit. Must not assign anything on ``self``.
        """
        raise NotImplementedError

    def _module_params(self, encoding):
        """The torch module's constructor arguments for an encoding."""
        raise NotImplementedError

    def _make_net(self, module_params, encoding, seed, device):
        """An uninitialised skorch net training a module of ``module_params``."""
        raise NotImplementedError

    def _untrained_module(self, encoding):
        """The module of an estimator that learns nothing from ``y``."""
        raise NotImplementedError(f"{type(self).__name__} always trains.")

    def _trains(self, encoding):
        """Whether an encoding belongs to a trained network (a skorch net)."""
        return True

    def _encoding_to_config(self, encoding):
        """The encoding as a JSON-able dict, merged into the file's config."""
        raise NotImplementedError

    def _encoding_from_config(self, config):
        """Inverse of :meth:`_encoding_to_config`, from a :class:`ModelConfig`."""
        raise NotImplementedError

    def _settings_to_json(self):
        """The hyper-parameters as JSON can hold them."""
        return settings_to_json(self)

    @classmethod
    def _settings_from_json(cls, params, path):
        """Inverse of :meth:`_settings_to_json`, run on the saved settings
        updated with those given to ``load`` (before validation)."""
        return settings_from_json(params)

    def _skorch_params(
        self,
        seed,
        device,
        *,
        schedule,
        stratified=False,
        callbacks=(),
        closing_callbacks=(),
    ):
        """The skorch net's training settings, the same in every family.

        Batches group sequences of similar length; ``callbacks`` (named
        pairs) run before the defaults of :func:`make_callbacks` and
        ``closing_callbacks`` after them (after early stopping has restored
        its epoch), ``schedule`` (named pairs) sets the learning rate, and
        early stopping selects the epoch by :attr:`_selection_metric`.
        """
        return dict(
            optimizer=make_optimizer(self.optimizer),
            **optimizer_options(self.optimizer, device),
            lr=self.lr,
            max_epochs=self.max_epochs,
            batch_size=self.batch_size,
            iterator_train=bucket_loader,
            iterator_train__shuffle=True,
            iterator_valid=bucket_loader,
            train_split=make_train_split(
                self.validation_fraction, seed, stratified=stratified
            ),
            callbacks=[
                *callbacks,
                *make_callbacks(
                    self,
                    *self._selection_metric,
                    schedule=schedule,
                    closing=closing_callbacks,
                ),
            ],
            device=str(device),
            verbose=self.verbose,
        )

    # -- fit ----------------------------------------------------------------

    def _fit(self, X, y):
        """The fit template; ``fit`` of each estimator calls it."""
        self._check_params_together()
        device = check_device(self.device)
        previous = self._net_to_continue()
        encoding, training = self._prepare_data(
            X, y, None if previous is None else self._fitted_encoding()
        )
        resolved = self._resolve_auto(encoding, training, previous is not None)
        # Everything below reads the resolved values through ``spec``, a
        # copy; ``self`` keeps "auto" and is only assigned at the end.
        spec = self._with_resolved(resolved)
        spec._check_params_together()
        if training.dataset is None:
            module = spec._untrained_module(encoding)
            if training.prepare_module is not None:
                training.prepare_module(module)
            self._set_fitted(encoding, None, module.to(device), resolved)
            return self
        module_params = spec._module_params(encoding)
        if previous is not None:
            self._check_same_network(previous, module_params)
        seed = torch_seed(self.random_state)
        with seeded(seed, device):
            net = spec._make_net(module_params, encoding, seed, device)
            net.initialize()
            if previous is not None:
                _continue_from(previous, net)
            elif training.prepare_module is not None:
                training.prepare_module(net.module_)
            net.partial_fit(training.dataset, training.y)
        self._set_fitted(encoding, net, net.module_, resolved)
        return self

    def _resolve_auto(self, encoding, training, warm_start):
        """The value of every parameter of :attr:`_auto_rules`, resolved.

        A parameter set to ``"auto"`` gets its rule's value (on a warm
        start, the value the first fit resolved); any other value is kept.
        """
        resolved = {}
        for name, rule in self._auto_rules.items():
            value = getattr(self, name)
            if _is_auto(value):
                if warm_start:
                    value = getattr(self, f"{name}_")
                else:
                    value = rule(self._with_resolved(resolved), encoding, training)
            resolved[name] = value
        return resolved

    def _with_resolved(self, resolved):
        """A shallow copy of the estimator with ``resolved`` as its settings.

        Parameters still ``"auto"`` and missing from ``resolved`` keep the
        string; the checks that run before the data is read skip them.
        """
        spec = copy.copy(self)
        vars(spec).update(resolved)
        return spec

    def _resolved_params(self):
        """The fitted values of the parameters of :attr:`_auto_rules`."""
        return {name: getattr(self, f"{name}_") for name in self._auto_rules}

    def _net_to_continue(self):
        """The fitted net a warm start continues, or None."""
        if self.warm_start and self.__sklearn_is_fitted__():
            return self.net_
        return None

    def _fitted_encoding(self):
        return {name: getattr(self, name) for name in self._encoding_attributes}

    def _check_same_network(self, previous, module_params):
        """Refuse a warm start whose settings would change the network."""
        fitted = previous.get_params_for("module")
        changed = [
            f"{name}: {fitted.get(name)!r} -> {value!r}"
            for name, value in module_params.items()
            if fitted.get(name) != value
        ]
        if changed:
            raise ValueError(
                "warm_start=True continues training the fitted network, but "
                f"these settings would change it: {'; '.join(changed)}. Set "
                "warm_start=False to train a new network, or restore them."
            )

    def _set_fitted(self, encoding, net, module, resolved):
        """Assign every fitted attribute at once."""
        vars(self).update(
            {
                **encoding,
                **{f"{name}_": value for name, value in resolved.items()},
                "net_": net,
                "module_": module,
                "history_": None if net is None else net.history,
            }
        )

    def __sklearn_is_fitted__(self):
        return "module_" in vars(self)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        # GPU kernels (e.g. RNN backward) may reorder floating-point sums.
        tags.non_deterministic = torch.device(self.device).type != "cpu"
        return tags

    # -- persistence --------------------------------------------------------

    def save(self, path: str | os.PathLike) -> None:
        """Write the fitted model to one file that loading never unpickles.

        The file is a safetensors file: the network's tensors, plus a JSON
        document with the hyper-parameters, the fitted state (vocabularies,
        classes, target statistics), the training history and the format
        version. Settings that only matter for training and cannot be saved
        safely (callbacks, optimizer classes outside ``torch.optim``, a
        ``RandomState``) are stored as their defaults, with a warning.

        Parameters
        ----------
        path : str or os.PathLike
        """
        check_is_fitted(self)
        config = {
            "params": self._settings_to_json(),
            "resolved": self._resolved_params(),
            **self._encoding_to_config(self._fitted_encoding()),
            "history": None if self.history_ is None else self.history_.to_list(),
        }
        save_model_file(
            path,
            estimator=type(self).__name__,
            config=config,
            state_dict=self.module_.state_dict(),
        )

    @classmethod
    def load(cls: type[_Estimator], path: str | os.PathLike, **params) -> _Estimator:
        """Load a model written by :meth:`save`; nothing is unpickled.

        Parameters
        ----------
        path : str or os.PathLike
        **params
            Hyper-parameters to set on the loaded model, e.g.
            ``device="cpu"``, or settings that could not be saved (callbacks,
            custom tokenizers). A model saved on a GPU loads on the CPU (with
            a warning) when CUDA is not available and no device is given.

        Returns
        -------
        estimator
            A fitted estimator of this class, with the saved ``history_``.

        Raises
        ------
        ValueError
            If the file is not a model of this class, lacks part of its
            configuration or holds a value of the wrong type there (the
            message names it), holds invalid settings (checked like
            constructor arguments), or tensors that do not fit its
            configuration.
        """
        config, state_dict = load_model_file(path, estimator=cls.__name__)
        saved = cls._settings_from_json({**config.get("params", dict), **params}, path)
        saved["device"] = loaded_device(path, saved.get("device"), params)
        try:
            estimator = cls(**saved)
        except TypeError as error:
            raise ValueError(f"{path!r} holds unknown settings: {error}") from None
        estimator._validate_params()  # a file's settings are checked like arguments
        resolved = _saved_resolution(estimator, config)
        spec = estimator._with_resolved(resolved)
        spec._validate_params()  # and so are the values fit resolved
        spec._check_params_together()
        encoding = estimator._encoding_from_config(config)
        # Files of format 1.0 did not always store the history.
        history = config.get(
            "history",
            (list, None),
            **({"default": None} if config.format_version == "1.0" else {}),
        )
        device = check_device(estimator.device)
        try:
            if spec._trains(encoding):
                net = spec._make_net(spec._module_params(encoding), encoding, 0, device)
                with seeded(0, device):  # the caller's torch RNG is untouched
                    net.initialize()
                net.history = History(history or [])
                module = net.module_
            else:
                net, module = None, spec._untrained_module(encoding)
            module.load_state_dict(state_dict)
        except (RuntimeError, KeyError, TypeError, ValueError) as error:
            raise ValueError(
                f"The tensors in {path!r} do not fit the saved configuration: {error}"
            ) from None
        estimator._set_fitted(encoding, net, module.to(device), resolved)
        return estimator


def _is_auto(value):
    return isinstance(value, str) and value == AUTO


def _saved_resolution(estimator, config):
    """The resolved ``"auto"`` settings of a loaded model.

    Files written before format 1.3 have no resolved values: no parameter
    could be ``"auto"``, so their settings hold what the fit used.
    """
    older = config.format_version in ("1.0", "1.1", "1.2")
    saved = config.get("resolved", dict, **({"default": {}} if older else {}))
    unknown = sorted(set(saved) - set(estimator._auto_rules))
    if unknown:
        raise ValueError(
            f"{config.path!r} holds resolved values of {unknown} in its model "
            f"configuration; {type(estimator).__name__} resolves none of them."
        )
    resolved = {}
    for name in estimator._auto_rules:
        value = saved.get(name, getattr(estimator, name))
        if _is_auto(value):
            raise ValueError(
                f"{config.path!r} lacks the value fit resolved for {name}='auto' "
                "in its model configuration; the file is incomplete or was not "
                "written by sk_attention."
            )
        resolved[name] = value
    return resolved


def _continue_from(previous, net):
    """Give a new, initialised net the weights, optimizer state and history
    of ``previous``, which stays untouched.

    The optimizer state is carried over when the optimizer class is the same
    (Adam's moments are worth keeping); the learning rates are the new net's.
    """
    net.module_.load_state_dict(previous.module_.state_dict())
    if type(net.optimizer_) is type(previous.optimizer_):
        # The new net's rates, per parameter group (all ``net.lr`` unless
        # the family gives a group its own), survive the loading.
        rates = [group["lr"] for group in net.optimizer_.param_groups]
        # A deep copy: loading shares tensors, which training updates in place.
        net.optimizer_.load_state_dict(
            copy.deepcopy(previous.optimizer_.state_dict())
        )
        for group, rate in zip(net.optimizer_.param_groups, rates):
            group["lr"] = rate
            group.pop("initial_lr", None)  # a schedule starts again from lr
    net.history = History(copy.deepcopy(previous.history.to_list()))
