"""What every estimator shares: a fit that raises changes nothing, and a model
saved is the model restored, with its history and without touching the
caller's random state."""

import json

import numpy as np
import pytest
import torch
from safetensors.torch import safe_open, save_file

from sk_attention import (
    AttentionPooling,
    AttentionPoolingClassifier,
    AttentionPoolingRegressor,
    AttentionSeq2Seq,
)
from sk_attention._persistence import model_digest
from sk_attention.distributed import (
    AcceleratedAttentionPooling,
    AcceleratedAttentionPoolingClassifier,
    AcceleratedAttentionPoolingRegressor,
    AcceleratedAttentionSeq2Seq,
)

_rng = np.random.RandomState(0)
SEQUENCES = _rng.normal(size=(24, 5, 3))
LABELS = np.array(["a", "b"])[np.arange(24) % 2]
NUMBERS = SEQUENCES[:, :, 0].max(axis=1)
TEXTS = ["abc", "bca", "cab", "acb", "bac", "cba"] * 4
REVERSED = [text[::-1] for text in TEXTS]

_SEQ2SEQ = dict(embedding_dim=8, hidden_size=8, max_epochs=2, random_state=0)
_POOLING = dict(hidden_layer_sizes=(4,), attention_size=4, max_epochs=2, random_state=0)

#: name -> (class, settings, X, y). Every public estimator and its
#: data-parallel variant, and the transformer fitted without y.
CASES = {
    "seq2seq": (AttentionSeq2Seq, _SEQ2SEQ, TEXTS, REVERSED),
    "seq2seq-transformer": (
        AttentionSeq2Seq,
        {**_SEQ2SEQ, "architecture": "transformer", "num_heads": 2},
        TEXTS,
        REVERSED,
    ),
    "seq2seq-bpe": (
        AttentionSeq2Seq,
        {**_SEQ2SEQ, "source_tokenizer": "bpe", "target_tokenizer": "bpe",
         "subword_vocabulary_size": 260},
        TEXTS,
        REVERSED,
    ),
    "pooling": (AttentionPooling, _POOLING, SEQUENCES, LABELS),
    "pooling-regression": (AttentionPooling, _POOLING, SEQUENCES, NUMBERS),
    "pooling-without-y": (AttentionPooling, _POOLING, SEQUENCES, None),
    "classifier": (AttentionPoolingClassifier, _POOLING, SEQUENCES, LABELS),
    "classifier-text-gru": (
        AttentionPoolingClassifier,
        {**_POOLING, "encoder": "gru", "encoder_size": 4, "tokenizer": "char"},
        TEXTS,
        LABELS,
    ),
    "regressor-conv": (
        AttentionPoolingRegressor,
        {**_POOLING, "encoder": "conv", "encoder_size": 4},
        SEQUENCES,
        NUMBERS,
    ),
    "regressor": (AttentionPoolingRegressor, _POOLING, SEQUENCES, NUMBERS),
    "accelerated-seq2seq": (AcceleratedAttentionSeq2Seq, _SEQ2SEQ, TEXTS, REVERSED),
    "accelerated-pooling": (AcceleratedAttentionPooling, _POOLING, SEQUENCES, LABELS),
    "accelerated-classifier": (
        AcceleratedAttentionPoolingClassifier, _POOLING, SEQUENCES, LABELS,
    ),
    "accelerated-regressor": (
        AcceleratedAttentionPoolingRegressor, _POOLING, SEQUENCES, NUMBERS,
    ),
}


def make(name, **settings):
    Estimator, defaults, X, y = CASES[name]
    return Estimator(**{**defaults, **settings}), X, y


def outputs(model, X):
    """Everything a fitted model answers, as arrays."""
    if isinstance(model, AttentionSeq2Seq):
        answers = [model.predict(X)]
    elif isinstance(model, AttentionPooling):
        answers = [model.transform(X)]
    else:
        answers = [model.predict(X)]
    if isinstance(model, AttentionPoolingClassifier):
        answers.append(model.predict_proba(X))
    return [*answers, *model.attention_weights(X)]


def _bad_fits(name, warm_start=False):
    """``(settings, X, y, message)`` of fits that must raise, for ``name``.

    Under a warm start a subset of the fitted classes is valid, but a label
    the network has no output for is not.
    """
    Estimator, _, X, y = CASES[name]
    no_split = ({"validation_fraction": None, "early_stopping": True}, X, y,
                "validation split")
    if issubclass(Estimator, AttentionSeq2Seq):
        return [
            no_split,
            ({"hidden_size": 7}, X, y, "hidden_size must be"),
            ({}, X, y[:-1], "same number of sequences"),
            ({}, X, [*y[:-1], None], r"y\[23\]"),
            ({}, ["", *X[1:]], y, r"X\[0\] has no tokens"),
        ]
    if X is TEXTS:
        bad_X, bad_message = [*X[:3], "", *X[4:]], r"X\[3\] has no tokens"
    else:
        bad_X, bad_message = SEQUENCES.copy(), r"X\[3\] contains NaN"
        bad_X[3, 1, 0] = np.nan
    fits = [
        no_split,
        ({"hidden_layer_sizes": (4, 0)}, X, y, "hidden_layer_sizes"),
        ({}, bad_X, y, bad_message),
    ]
    if y is not None:
        fits.append(({}, X, y[:-1], "y has 23"))
    if Estimator is not AttentionPoolingRegressor and y is not None:
        # The case that once left new classes next to the old network.
        fits.append(({"validation_fraction": None, "early_stopping": True},
                     X, np.array(["x", "y", "z"])[np.arange(24) % 3],
                     "validation split"))
    if issubclass(Estimator, AttentionPoolingClassifier) and not warm_start:
        fits.append(({}, X, np.full(24, "a"), "at least 2 classes"))
    if issubclass(Estimator, AttentionPoolingClassifier) and warm_start:
        fits.append(({}, X, np.full(24, "c"), r"does not know: \['c'\]"))
    if issubclass(Estimator, AttentionPoolingRegressor):
        fits.append(({}, X, LABELS, "numbers"))
    return fits


def _failing_fits(warm_start=False):
    return [
        pytest.param(name, index, id=f"{name}-{index}")
        for name in CASES
        for index in range(len(_bad_fits(name, warm_start)))
    ]


@pytest.mark.parametrize("name, index", _failing_fits())
def test_a_fit_that_raises_leaves_an_unfitted_estimator_unfitted(name, index):
    model, _, _ = make(name)
    settings, X, y, message = _bad_fits(name)[index]
    model.set_params(**settings)
    before = dict(vars(model))
    with pytest.raises((ValueError, TypeError), match=message):
        model.fit(X, y)
    assert vars(model) == before
    assert not model.__sklearn_is_fitted__()


@pytest.mark.parametrize(
    "warm_start, name, index",
    [pytest.param(False, *p.values, id=f"cold-{p.id}") for p in _failing_fits()]
    + [pytest.param(True, *p.values, id=f"warm-{p.id}") for p in _failing_fits(True)],
)
def test_a_fit_that_raises_leaves_a_fitted_estimator_as_it_was(
    warm_start, name, index
):
    model, X_fit, y_fit = make(name, warm_start=warm_start)
    model.fit(X_fit, y_fit)
    expected = outputs(model, X_fit)
    before = dict(vars(model))
    settings, X, y, message = _bad_fits(name, warm_start)[index]
    original = model.get_params()
    model.set_params(**settings)
    with pytest.raises((ValueError, TypeError), match=message):
        model.fit(X, y)
    after = dict(vars(model))
    for key in settings:
        del before[key], after[key]
    assert after.keys() == before.keys()
    for key, value in before.items():
        assert after[key] is value, key
    model.set_params(**{key: original[key] for key in settings})
    for got, want in zip(outputs(model, X_fit), expected, strict=True):
        np.testing.assert_array_equal(got, want)


# -- persistence ----------------------------------------------------------------


@pytest.fixture(scope="module", params=sorted(CASES))
def fitted(request):
    model, X, y = make(request.param)
    return model.fit(X, y), X


@pytest.fixture
def saved(fitted, tmp_path):
    path = tmp_path / "model.safetensors"
    fitted[0].save(path)
    return path


def test_load_restores_outputs_and_history_and_leaves_the_rngs_alone(fitted, saved):
    model, X = fitted
    torch.manual_seed(7)
    np.random.seed(7)
    torch_state, numpy_state = torch.random.get_rng_state(), np.random.get_state()
    restored = type(model).load(saved)
    torch.testing.assert_close(torch.random.get_rng_state(), torch_state)
    for got, want in zip(np.random.get_state(), numpy_state, strict=True):
        np.testing.assert_array_equal(got, want)
    for got, want in zip(outputs(restored, X), outputs(model, X), strict=True):
        np.testing.assert_array_equal(got, want)
    if model.history_ is None:
        assert restored.history_ is None
    else:
        assert restored.history_.to_list() == model.history_.to_list()


def _read(path):
    with safe_open(str(path), framework="pt", device="cpu") as handle:
        document = json.loads(handle.metadata()["sk_attention"])
        tensors = {name: handle.get_tensor(name) for name in handle.keys()}
    return document, tensors


def _reseal(path, document, tensors):
    """Write an edited file with a valid checksum, as a careful forger would."""
    document = {**document, "sha256": model_digest(document["config"], tensors)}
    save_file(tensors, str(path), metadata={"sk_attention": json.dumps(document)})


def _config_keys(saved):
    """Every key of the configuration, as (section or None, key)."""
    config = _read(saved)[0]["config"]
    keys = [(None, key) for key in config]
    keys += [("fitted", key) for key in config.get("fitted", {})]
    return keys


def test_a_file_missing_any_part_of_its_configuration_is_refused_naming_it(
    fitted, saved
):
    model, _ = fitted
    for section, key in _config_keys(saved):
        document, tensors = _read(saved)
        where = document["config"] if section is None else document["config"][section]
        del where[key]
        broken = saved.with_name(f"without-{key}.safetensors")
        _reseal(broken, document, tensors)
        with pytest.raises(ValueError, match=f"lacks '{key}'|lacks '{section}.{key}'"):
            type(model).load(broken)


def test_a_file_with_a_value_of_the_wrong_type_is_refused_naming_it(fitted, saved):
    model, _ = fitted
    for section, key in _config_keys(saved):
        document, tensors = _read(saved)
        where = document["config"] if section is None else document["config"][section]
        # A JSON object stands where no part of any configuration holds one.
        objects = ("params", "fitted", "resolved")
        where[key] = {"unexpected": True} if key not in objects else 3
        broken = saved.with_name(f"mistyped-{key}.safetensors")
        _reseal(broken, document, tensors)
        with pytest.raises(ValueError, match=key):
            type(model).load(broken)


def test_a_setting_of_the_wrong_type_is_refused_naming_it(fitted, saved):
    model, _ = fitted
    document, tensors = _read(saved)
    document["config"]["params"]["max_epochs"] = "many"
    _reseal(saved, document, tensors)
    with pytest.raises(ValueError, match="max_epochs"):
        type(model).load(saved)


@pytest.mark.parametrize("name", ["seq2seq", "classifier", "accelerated-pooling"])
def test_named_adam_trains_with_the_fused_kernel_and_a_given_class_as_given(name):
    model, X, y = make(name, max_epochs=1)
    model.fit(X, y)
    assert model.net_.optimizer_.defaults["fused"]  # one kernel for all weights
    model, X, y = make(name, max_epochs=1, optimizer=torch.optim.Adam)
    model.fit(X, y)
    assert not model.net_.optimizer_.defaults["fused"]  # the user's defaults
