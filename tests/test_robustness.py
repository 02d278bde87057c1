"""Bad input, systematically.

Generated input is thrown at the public API of every estimator (``fit``,
``predict``, ``predict_proba``, ``transform``, ``score``,
``attention_weights``). For each input an oracle decides whether it is
usable: usable input gives well-formed, finite output; anything else ends in
a ValueError or TypeError whose message names the argument, never in an
error from deep inside torch or numpy. No input is ever modified.

Fitted models are built once per module and only read by the tests; only
the tests of ``fit``'s own validation fit fresh estimators, and those fail
before any training. ``pytest --hypothesis-profile=long`` runs thousands of
inputs per test (profiles in conftest.py).
"""

import copy
import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import assume, example, given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from sklearn.base import clone
from sklearn.exceptions import NotFittedError

from sk_attention import (
    AttentionPooling,
    AttentionPoolingClassifier,
    AttentionPoolingRegressor,
    AttentionSeq2Seq,
)

CLEAR_ERRORS = (ValueError, TypeError)
NAMES_X = r"\bX\b"
NAMES_X_OR_Y = r"\b[Xy]\b"


# -- AttentionSeq2Seq ------------------------------------------------------

SEQ2SEQ = dict(
    embedding_dim=8,
    hidden_size=8,
    max_epochs=1,
    batch_size=8,
    lr=1e-2,
    validation_fraction=None,
    early_stopping=False,
    max_output_length=6,
    random_state=0,
)
TRAIN_X = ["abc", "bca", "cab", "acb", "bac", "cba"]
TRAIN_Y = [x[::-1] for x in TRAIN_X]

# What breaks naive text handling: emoji (also joined by ZWJ), combining
# marks alone and composed, right-to-left scripts and direction marks, NUL,
# a lone surrogate, a byte-order mark, line breaks.
HARD_TEXT = [
    "😀",
    "👩\u200d👩\u200d👧",
    "e\u0301",
    "\u0301",
    "שלום",
    "مرحبا",
    "\u202e",
    "\u200f",
    "\x00",
    "\ud800",
    "\ufeff",
    "\r\n",
    "\t",
    " ",
]
texts = st.lists(
    st.one_of(st.characters(), st.sampled_from(HARD_TEXT)), max_size=12
).map("".join)
token_lists = st.lists(texts, max_size=5)
not_text = st.one_of(
    st.none(),
    st.just(math.nan),
    st.integers(),
    st.floats(),
    st.binary(max_size=5),
    st.booleans(),
    st.dictionaries(texts, st.integers(), max_size=2),
    st.lists(st.one_of(st.integers(), st.none()), min_size=1, max_size=3),
)
text_items = st.one_of(texts, token_lists, not_text)
containers = st.sampled_from(["list", "tuple", "object array", "Series"])


def as_container(items, kind):
    """The same items as a list, tuple, 1-D object array or pandas Series."""
    if kind == "list":
        return list(items)
    if kind == "tuple":
        return tuple(items)
    if kind == "object array":
        array = np.empty(len(items), dtype=object)
        for index, item in enumerate(items):
            array[index] = item
        return array
    return pd.Series(list(items), dtype=object)


def usable_sources(items):
    """Non-empty strings, or non-empty lists of string tokens, not mixed."""
    if not items:
        return False
    if all(isinstance(item, str) for item in items):
        return all(items)
    return all(
        isinstance(item, (list, tuple))
        and item
        and all(isinstance(token, str) for token in item)
        for item in items
    )


def usable_targets(items):
    """Like sources, but an empty target is a valid thing to learn."""
    if not items:
        return False
    if all(isinstance(item, str) for item in items):
        return True
    return all(
        isinstance(item, (list, tuple))
        and all(isinstance(token, str) for token in item)
        for item in items
    )


@pytest.fixture(scope="module")
def seq2seq():
    return AttentionSeq2Seq(**SEQ2SEQ).fit(TRAIN_X, TRAIN_Y)


@given(items=st.lists(text_items, max_size=5), kind=containers)
def test_seq2seq_inference_accepts_text_and_refuses_the_rest(seq2seq, items, kind):
    X = as_container(items, kind)
    before = copy.deepcopy(items)
    if usable_sources(items):
        predictions = seq2seq.predict(X)
        assert predictions.shape == (len(items),) and predictions.dtype == object
        assert all(isinstance(p, str) for p in predictions)
        explained = seq2seq.attention_weights(X, return_tokens=True)
        for (weights, source, output), item in zip(explained, items):
            assert source == list(item)
            assert weights.shape == (len(output), len(source))
            assert len(output) <= seq2seq.max_output_length_
            if len(output):
                np.testing.assert_allclose(weights.sum(axis=1), 1.0, rtol=1e-5)
        assert seq2seq.score(X, list(predictions)) == 1.0
    else:
        with pytest.raises(CLEAR_ERRORS, match=NAMES_X):
            seq2seq.predict(X)
        with pytest.raises(CLEAR_ERRORS, match=NAMES_X_OR_Y):
            seq2seq.score(X, ["abc"] * len(items))
        with pytest.raises(CLEAR_ERRORS, match=NAMES_X):
            seq2seq.attention_weights(X)
    assert list(X) == before and items == before


@given(
    length=st.integers(8, 2000),
    character=st.sampled_from(["a", "z", "😀", "\x00", "\u0301"]),
)
def test_seq2seq_sources_longer_than_any_seen_in_fit(seq2seq, length, character):
    (weights, source, output), _ = seq2seq.attention_weights(
        [character * length, "ab"], return_tokens=True
    )
    assert weights.shape == (len(output), length)
    assert np.isfinite(weights).all()
    assert len(seq2seq.predict([character * length])[0]) <= 6 * 7


@given(
    X_items=st.lists(text_items, max_size=4),
    y_items=st.lists(text_items, max_size=4),
    kind=containers,
)
def test_seq2seq_fit_refuses_unusable_training_data(X_items, y_items, kind):
    assume(
        not (
            usable_sources(X_items)
            and usable_targets(y_items)
            and len(X_items) == len(y_items)
        )
    )
    X, y = as_container(X_items, kind), as_container(y_items, kind)
    before = copy.deepcopy((X_items, y_items))
    with pytest.raises(CLEAR_ERRORS, match=NAMES_X_OR_Y):
        AttentionSeq2Seq(**SEQ2SEQ).fit(X, y)
    assert (list(X), list(y)) == before


@given(pairs=st.lists(st.tuples(texts.filter(bool), texts), min_size=1, max_size=4))
def test_seq2seq_fits_any_unicode_text(pairs):
    X, y = [x for x, _ in pairs], [t for _, t in pairs]
    before = (list(X), list(y))
    model = AttentionSeq2Seq(**SEQ2SEQ).fit(X, y)
    assert set(model.source_vocab_.tokens) == set("".join(X))
    assert model.predict(X).shape == (len(X),)
    assert (X, y) == before


@pytest.mark.parametrize("X", [["abc", ""], [["a", "b", "c"], []]])
def test_seq2seq_attention_weights_of_empty_source(seq2seq, X):
    with pytest.raises(ValueError, match=r"X\[1\] has no tokens"):
        seq2seq.attention_weights(X)


@pytest.mark.parametrize("X", [{"abc", "cab"}, {"abc": 1}, 42, None])
def test_seq2seq_refuses_unordered_or_unusable_collections(seq2seq, X):
    with pytest.raises(TypeError, match=NAMES_X):
        seq2seq.predict(X)


def test_seq2seq_pandas_input(seq2seq):
    series = pd.Series(["abc", "cab"], index=[10, 20])
    frame = series.to_frame("text")
    expected = seq2seq.predict(["abc", "cab"])
    assert list(seq2seq.predict(series)) == list(expected)
    assert list(seq2seq.predict(frame)) == list(expected)
    model = clone(seq2seq).fit(pd.Series(TRAIN_X), pd.Series(TRAIN_Y).to_frame())
    assert model.predict(series).shape == (2,)
    with pytest.raises(ValueError, match="X must be one-dimensional"):
        seq2seq.predict(pd.DataFrame({"a": ["abc"], "b": ["cab"]}))


def test_seq2seq_score_with_y_of_another_length(seq2seq):
    with pytest.raises(ValueError):
        seq2seq.score(["abc", "cab"], ["cba"])


def test_seq2seq_single_sample_fits_and_predicts():
    model = AttentionSeq2Seq(**SEQ2SEQ).fit(["abc"], ["cba"])
    assert model.predict(["abc"]).shape == (1,)


def test_seq2seq_validation_split_of_too_few_samples_names_the_parameter():
    model = AttentionSeq2Seq(**{**SEQ2SEQ, "validation_fraction": 0.5})
    with pytest.raises(ValueError, match="validation_fraction=0.5 cannot hold out"):
        model.fit(["abc"], ["cba"])


@pytest.mark.parametrize("device", ["meta", "cuda:99", "not-a-device"])
def test_unusable_devices_are_refused_by_name(device):
    with pytest.raises(ValueError, match=f"device='{device}'"):
        AttentionSeq2Seq(**{**SEQ2SEQ, "device": device}).fit(TRAIN_X, TRAIN_Y)
    X, y = np.ones((4, 2, 1)), [0, 1, 0, 1]
    with pytest.raises(ValueError, match=f"device='{device}'"):
        AttentionPoolingClassifier(device=device).fit(X, y)


# -- attention pooling -----------------------------------------------------

POOLING = dict(
    hidden_layer_sizes=(4,),
    attention_size=4,
    max_epochs=1,
    batch_size=8,
    random_state=0,
)
N_FEATURES = 3
_rng = np.random.RandomState(0)
TRAIN_SEQUENCES = _rng.normal(size=(12, 5, N_FEATURES))
TRAIN_LABELS = np.arange(12) % 2
INFERENCE = ("transform", "predict", "predict_proba", "attention_weights")


@pytest.fixture(scope="module")
def pooling_models():
    """Each pooling estimator fitted on 3 features, plus a univariate one."""
    X, y = TRAIN_SEQUENCES, TRAIN_LABELS
    return {
        "AttentionPooling": AttentionPooling(**POOLING).fit(X, y),
        "AttentionPooling without y": AttentionPooling().fit(X),
        "AttentionPoolingClassifier": AttentionPoolingClassifier(**POOLING).fit(X, y),
        "AttentionPoolingRegressor": AttentionPoolingRegressor(**POOLING).fit(
            X, X[:, :, 0].max(axis=1)
        ),
        "univariate AttentionPoolingClassifier": AttentionPoolingClassifier(
            **POOLING
        ).fit(X[:, :, 0], y),
    }


def inference_methods(model):
    return [getattr(model, name) for name in INFERENCE if hasattr(model, name)]


def finite_in_float32(array):
    with np.errstate(over="ignore", invalid="ignore"):
        return bool(np.isfinite(np.asarray(array, dtype=np.float32)).all())


def usable_sequences(X, n_features=None):
    """The oracle: a list of samples, or an array, each sample usable.

    ``n_features=None`` (fit) asks only that all samples agree.
    """
    if isinstance(X, np.ndarray):
        if X.ndim == 2:
            X = X[:, :, None]
        if X.ndim != 3:
            return False
    samples = list(X)
    if not samples:
        return False
    for sample in samples:
        sample = np.asarray(sample)
        if sample.ndim == 1:
            sample = sample[:, None]
        if sample.ndim != 2 or sample.shape[0] == 0:
            return False
        n_features = n_features or sample.shape[1]
        if sample.shape[1] != n_features or not finite_in_float32(sample):
            return False
    return True


def check_inference(model, X, n_samples):
    """Usable input: well-formed, finite output from every method."""
    for method in inference_methods(model):
        result = method(X)
        if method.__name__ == "attention_weights":
            assert len(result) == n_samples
            for weights in result:
                assert np.isfinite(weights).all()
                np.testing.assert_allclose(weights.sum(axis=1), 1.0, rtol=1e-4)
        else:
            assert len(result) == n_samples
            if result.dtype.kind == "f":
                assert np.isfinite(result).all(), method.__name__


def check_refusal(model, X):
    """Unusable input: a clear error naming X from every method."""
    for method in inference_methods(model):
        with pytest.raises(CLEAR_ERRORS, match=NAMES_X):
            method(X)


# Values that break numerics: NaN, infinities, float32 overflow, subnormals.
values = st.one_of(
    st.floats(-10, 10),
    st.sampled_from([np.nan, np.inf, -np.inf, 1e39, -3e38, 1e-45, 0.0]),
)
dtypes = st.sampled_from([np.float64, np.float32, np.float16, np.int64, np.bool_])
model_names = st.sampled_from(
    [
        "AttentionPooling",
        "AttentionPooling without y",
        "AttentionPoolingClassifier",
        "AttentionPoolingRegressor",
        "univariate AttentionPoolingClassifier",
    ]
)


def n_features_of(name):
    return 1 if name.startswith("univariate") else N_FEATURES


@st.composite
def dense_arrays(draw):
    """1-D to 4-D arrays, sometimes with 0-length axes or wrong widths."""
    dtype = draw(dtypes)
    shape = draw(hnp.array_shapes(min_dims=1, max_dims=4, min_side=0, max_side=5))
    if len(shape) == 3 and draw(st.booleans()):
        shape = (*shape[:2], draw(st.sampled_from([1, N_FEATURES])))
    if dtype in (np.float64, np.float32):
        elements = values.filter(
            lambda v: dtype is np.float64 or not np.isfinite(v) or abs(v) < 3e38
        )
        array = draw(hnp.arrays(np.float64, shape, elements=elements))
        with np.errstate(over="ignore"):
            return array.astype(dtype)
    return draw(hnp.arrays(dtype, shape))


@given(name=model_names, X=dense_arrays(), pandas=st.booleans())
def test_pooling_dense_arrays(pooling_models, name, X, pandas):
    model = pooling_models[name]
    before = X.copy()
    if pandas and X.ndim == 2:
        X = pd.DataFrame(X)
    if usable_sequences(np.asarray(X), n_features_of(name)):
        check_inference(model, X, len(X))
    else:
        check_refusal(model, X)
    np.testing.assert_array_equal(np.asarray(X), before)


ragged = st.lists(
    hnp.arrays(
        np.float64,
        st.one_of(
            st.tuples(st.integers(0, 6), st.sampled_from([1, 2, N_FEATURES])),
            hnp.array_shapes(min_dims=1, max_dims=3, min_side=0, max_side=4),
        ),
        elements=values,
    ),
    max_size=5,
)


@given(name=model_names, X=ragged, as_series=st.booleans())
# Values near the float32 limit once overflowed the attention scores to NaN.
@example(
    name="AttentionPooling without y",
    X=[np.full((1, N_FEATURES), -3e38)],
    as_series=False,
)
@example(name="AttentionPooling", X=[np.full((2, N_FEATURES), 3.4e38)], as_series=False)
def test_pooling_ragged_lists(pooling_models, name, X, as_series):
    model = pooling_models[name]
    before = [sample.copy() for sample in X]
    if as_series:
        X = pd.Series(X, dtype=object)
    if usable_sequences(list(X), n_features_of(name)):
        check_inference(model, X, len(X))
    else:
        check_refusal(model, X)
    for sample, original in zip(X, before):
        np.testing.assert_array_equal(sample, original)


@given(name=model_names, length=st.integers(6, 5000), scale=st.sampled_from([1, 1e6]))
def test_pooling_sequences_longer_than_any_seen_in_fit(
    pooling_models, name, length, scale
):
    rng = np.random.RandomState(length)
    X = [rng.normal(size=(length, n_features_of(name))) * scale]
    check_inference(pooling_models[name], X, 1)
    (weights,) = pooling_models[name].attention_weights(X)
    assert weights.shape[1] == length


junk = st.one_of(
    st.none(),
    texts,
    st.integers(),
    st.floats(),
    st.lists(texts, min_size=1, max_size=3),
    st.lists(st.one_of(st.none(), texts, st.integers()), min_size=1, max_size=3),
    st.dictionaries(texts, st.integers(), max_size=2),
    st.sets(st.integers(), max_size=3),
    hnp.arrays(hnp.unicode_string_dtypes(max_len=3), (2, 2, N_FEATURES)),
    hnp.arrays(hnp.datetime64_dtypes(), (2, 2, N_FEATURES)),
    hnp.arrays(np.complex128, (2, 2, N_FEATURES)),
)


@given(name=model_names, X=junk)
def test_pooling_refuses_what_is_not_a_sequence_of_numbers(pooling_models, name, X):
    before = copy.deepcopy(X)
    check_refusal(pooling_models[name], X)
    if isinstance(X, np.ndarray):
        np.testing.assert_array_equal(X, before)
    else:
        assert X == before or X != X  # NaN compares unequal to itself


@st.composite
def flawed_targets(draw):
    """Targets that cannot be learned: wrong length or rank, or a missing label."""
    n = len(TRAIN_LABELS)
    labels = draw(
        st.sampled_from([TRAIN_LABELS, TRAIN_LABELS.astype(str), TRAIN_LABELS * 0.5])
    )
    flaw = draw(
        st.sampled_from(["length", "None", "NaN", "inf", "scalar", "3-D", "empty"])
    )
    if flaw == "length":
        return labels[: draw(st.sampled_from([0, 1, n - 1]))]
    if flaw == "scalar":
        return labels[0]
    if flaw == "3-D":
        return labels.reshape(n, 1, 1)
    if flaw == "empty":
        return labels[:0]
    y = list(labels)
    bad = {"None": None, "NaN": math.nan, "inf": math.inf}[flaw]
    y[draw(st.integers(0, n - 1))] = bad
    return draw(st.sampled_from([y, np.array(y, dtype=object), pd.Series(y)]))


@given(
    estimator=st.sampled_from(
        [AttentionPooling, AttentionPoolingClassifier, AttentionPoolingRegressor]
    ),
    y=flawed_targets(),
)
def test_pooling_fit_refuses_unusable_targets(estimator, y):
    before = repr(y)
    with pytest.raises(CLEAR_ERRORS, match=NAMES_X_OR_Y):
        estimator(**POOLING).fit(TRAIN_SEQUENCES, y)
    assert repr(y) == before


def usable_training_sequences(X):
    """The oracle for fit: arrays or lists of arrays of numbers, usable, or
    texts that each hold a word (the pooling family reads text too)."""
    numeric = isinstance(X, np.ndarray) and X.dtype.kind in "biuf"
    arrays = isinstance(X, list) and all(isinstance(s, np.ndarray) for s in X)
    texts = (
        isinstance(X, list)
        and len(X) > 0
        and all(isinstance(s, str) and s.split() for s in X)
    )
    return texts or ((numeric or arrays) and usable_sequences(X))


@given(
    estimator=st.sampled_from(
        [AttentionPooling, AttentionPoolingClassifier, AttentionPoolingRegressor]
    ),
    X=st.one_of(dense_arrays(), ragged, junk),
)
def test_pooling_fit_refuses_unusable_sequences(estimator, X):
    assume(not usable_training_sequences(X))
    y = np.arange(len(X)) % 2 if hasattr(X, "__len__") else TRAIN_LABELS
    before = repr(X)
    with pytest.raises(CLEAR_ERRORS, match=NAMES_X_OR_Y):
        estimator(**POOLING).fit(X, y)
    assert repr(X) == before


# type_of_target casts y to int to look for classes, which warns at 1e300.
@pytest.mark.filterwarnings("ignore:invalid value encountered in cast")
@pytest.mark.parametrize("Estimator", [AttentionPooling, AttentionPoolingRegressor])
def test_pooling_targets_too_large_to_standardize(Estimator):
    y = np.linspace(-1, 1, len(TRAIN_LABELS)) * 1e300
    with pytest.raises(ValueError, match=r"\by\b"):
        Estimator(**POOLING).fit(TRAIN_SEQUENCES, y)


def test_pooling_single_sample_and_single_class():
    X = TRAIN_SEQUENCES[:1]
    assert AttentionPoolingRegressor(**POOLING).fit(X, [1.0]).predict(X).shape == (1,)
    with pytest.raises(ValueError, match="y has 1 class"):
        AttentionPoolingClassifier(**POOLING).fit(TRAIN_SEQUENCES, np.zeros(12))
    with pytest.raises(ValueError, match="validation_fraction=0.5 cannot hold out"):
        AttentionPoolingClassifier(**{**POOLING, "validation_fraction": 0.5}).fit(
            TRAIN_SEQUENCES[:3], [0, 1, 1]
        )


@pytest.mark.parametrize(
    "estimator",
    [
        AttentionSeq2Seq(),
        AttentionPooling(),
        AttentionPoolingClassifier(),
        AttentionPoolingRegressor(),
    ],
    ids=type,
)
def test_every_inference_method_needs_a_fitted_model(estimator):
    X = ["abc"] if isinstance(estimator, AttentionSeq2Seq) else TRAIN_SEQUENCES
    methods = inference_methods(estimator)
    if hasattr(estimator, "score"):
        methods.append(lambda X: estimator.score(X, TRAIN_LABELS[: len(X)]))
    assert methods
    for method in methods:
        with pytest.raises(NotFittedError):
            method(X)


# -- streaming -------------------------------------------------------------


def test_seq2seq_predicts_in_batches_of_predict_batch_size(seq2seq, monkeypatch):
    model = clone(seq2seq).set_params(predict_batch_size=7)
    model.__dict__.update({k: v for k, v in vars(seq2seq).items() if k.endswith("_")})
    sizes = []
    encode = model.net_.module_.encode

    def recording_encode(source, lengths):
        sizes.append(len(source))
        return encode(source, lengths)

    monkeypatch.setattr(model.net_.module_, "encode", recording_encode)
    model.predict(TRAIN_X * 5)
    assert sizes == [7, 7, 7, 7, 2]
    model.attention_weights(TRAIN_X * 5)
    assert max(sizes) == 7 and sum(sizes) % 30 == 0


def test_pooling_infers_in_bounded_chunks(pooling_models, monkeypatch):
    from sk_attention._pooling import _base as _pooling_base

    monkeypatch.setattr(_pooling_base, "_CHUNK_ELEMENTS", 5 * 4 * 16)
    model = pooling_models["AttentionPoolingClassifier"]
    sizes = []
    pool = model.module_.pool

    def recording_pool(X, lengths, need_weights):
        sizes.append(len(X))
        return pool(X, lengths, need_weights)

    monkeypatch.setattr(model.module_, "pool", recording_pool)
    X = np.random.RandomState(1).normal(size=(100, 5, N_FEATURES))
    model.predict(X)
    model.attention_weights(list(X))
    assert max(sizes) <= 16 and sum(sizes) == 200
