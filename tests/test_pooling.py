"""Behaviour of AttentionPooling, AttentionPoolingClassifier and
AttentionPoolingRegressor."""

import pickle

import numpy as np
import pytest
import scipy.sparse as sp
import torch
from _tiny_modules import tiny_pooling_net
from sklearn.base import clone
from sklearn.datasets import load_digits
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import balanced_accuracy_score, r2_score
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.utils._param_validation import InvalidParameterError

from sk_attention._pooling import (
    AttentionPooling,
    AttentionPoolingClassifier,
    AttentionPoolingRegressor,
)
from sk_attention._pooling import _base as _pooling_base

TINY = dict(hidden_layer_sizes=(8,), attention_size=8, max_epochs=3, random_state=0)
ESTIMATORS = [AttentionPooling, AttentionPoolingClassifier, AttentionPoolingRegressor]


def ragged(n_samples, n_features=2, seed=0, min_length=2, max_length=9):
    rng = np.random.RandomState(seed)
    lengths = rng.randint(min_length, max_length + 1, size=n_samples)
    return [rng.normal(size=(n, n_features)) for n in lengths]


def max_task(n_samples, seed=0):
    """Is the max of channel 0 above 1.3? About half the sequences are."""
    X = ragged(n_samples, seed=seed, min_length=4, max_length=10)
    y = np.array([x[:, 0].max() > 1.3 for x in X], dtype=int)
    return X, y


@pytest.fixture(scope="module")
def digit_bags():
    """Bags of 8x8 digits, positive iff they hold a 9, from disjoint images."""
    digits = load_digits()
    rng = np.random.RandomState(0)
    order = rng.permutation(len(digits.target))
    half = len(order) // 2

    def bags(index, n_bags):
        images, labels = digits.data[index], digits.target[index]
        nines, others = np.flatnonzero(labels == 9), np.flatnonzero(labels != 9)
        X, y, keys = [], [], []
        for positive in rng.rand(n_bags) < 0.5:
            size = max(2, int(round(rng.normal(10, 2))))
            if positive:  # any digits, at least one of them a 9
                picks = rng.randint(len(labels), size=size)
                if not (labels[picks] == 9).any():
                    picks[rng.randint(size)] = rng.choice(nines)
            else:
                picks = rng.choice(others, size=size)
            X.append(images[picks])
            y.append(int(positive))
            keys.append(labels[picks] == 9)
        return X, np.array(y), keys

    return bags(order[:half], 100), bags(order[half:], 200)


# -- input forms -------------------------------------------------------------


@pytest.mark.parametrize("attention", ["additive", "gated", "scaled_dot"])
def test_fit_transform_on_3d_ragged_and_2d_input(attention):
    rng = np.random.RandomState(0)
    X3 = rng.normal(size=(30, 5, 3))
    y = rng.randint(2, size=30)
    pool = AttentionPooling(attention=attention, num_heads=2, **TINY).fit(X3, y)
    Xt = pool.transform(X3)
    assert Xt.shape == (30, 2 * 8) and Xt.dtype == np.float32
    assert np.isfinite(Xt).all()
    assert pool.transform(list(X3)).shape == (30, 16)
    assert pool.transform([X3[0][:2], X3[1]]).shape == (2, 16)

    X2 = rng.normal(size=(30, 7))
    pool2 = AttentionPooling(attention=attention, **TINY).fit(X2, y)
    assert pool2.n_features_in_ == 1
    np.testing.assert_array_equal(pool2.transform(X2), pool2.transform(X2[:, :, None]))


def test_float64_input_is_computed_in_float32_and_never_modified():
    X, y = max_task(40)
    X64 = np.stack([x[:4] for x in X])
    snapshots = [X64.copy(), [x.copy() for x in X]]
    pool = AttentionPooling(**TINY).fit(X64, y)
    np.testing.assert_array_equal(
        pool.transform(X64), pool.transform(X64.astype(np.float32))
    )
    pool.fit(X, y).transform(X)
    pool.attention_weights(X)
    np.testing.assert_array_equal(X64, snapshots[0])
    for x, before in zip(X, snapshots[1]):
        np.testing.assert_array_equal(x, before)


def test_pandas_2d_input_and_set_output():
    pd = pytest.importorskip("pandas")
    rng = np.random.RandomState(0)
    frame = pd.DataFrame(rng.normal(size=(20, 4)), index=np.arange(100, 120))
    y = rng.randint(2, size=20)
    pool = AttentionPooling(**TINY).set_output(transform="pandas")
    out = pool.fit_transform(frame, y)
    assert isinstance(out, pd.DataFrame)
    assert list(out.columns) == [f"attentionpooling{i}" for i in range(8)]
    assert list(out.index) == list(frame.index)
    names = pool.get_feature_names_out()
    assert names.dtype == object and len(names) == out.shape[1]


# -- attention and padding ---------------------------------------------------


@pytest.mark.parametrize("attention", ["additive", "gated", "scaled_dot"])
def test_padding_gets_exactly_zero_weight_whatever_it_holds(attention):
    torch.manual_seed(0)
    net = tiny_pooling_net(3, 2, attention=attention, num_heads=2).eval()
    X = torch.randn(4, 6, 3)
    lengths = torch.tensor([6, 4, 2, 1])
    garbage = X.clone()
    for row, length in enumerate(lengths):
        garbage[row, length:] = 1e4
    pooled, weights = net.pool(X, lengths)
    pooled_garbage, _ = net.pool(garbage, lengths)
    for row, length in enumerate(lengths):
        assert (weights[row, :, length:] == 0).all()
        assert (weights[row, :, :length] > 0).all()
    torch.testing.assert_close(weights.sum(-1), torch.ones(4, 2))
    torch.testing.assert_close(pooled, pooled_garbage)
    # Without weights "scaled_dot" takes the fused kernel; it must agree.
    fused, _ = net.pool(garbage, lengths, need_weights=False)
    torch.testing.assert_close(fused, pooled)


@pytest.mark.parametrize(
    "Estimator, attention",
    [(Estimator, "gated") for Estimator in ESTIMATORS]
    + [(AttentionPooling, "scaled_dot"), (AttentionPoolingClassifier, "additive")],
)
def test_ragged_batch_equals_one_sequence_at_a_time(Estimator, attention):
    X, y = max_task(40)
    model = Estimator(attention=attention, num_heads=2, **TINY).fit(X, y)
    method = {
        AttentionPooling: "transform",
        AttentionPoolingClassifier: "predict_proba",
        AttentionPoolingRegressor: "predict",
    }[Estimator]
    batched = getattr(model, method)(X)
    one_by_one = np.concatenate([getattr(model, method)([x]) for x in X])
    np.testing.assert_allclose(batched, one_by_one, rtol=1e-5, atol=1e-6)
    weights = model.attention_weights(X)
    for x, w in zip(X, weights):
        np.testing.assert_allclose(w, model.attention_weights([x])[0], atol=1e-6)


def test_attention_weights_one_row_per_head_summing_to_one():
    X, y = max_task(30)
    clf = AttentionPoolingClassifier(num_heads=3, **TINY).fit(X, y)
    weights = clf.attention_weights(X)
    assert isinstance(weights, list) and len(weights) == len(X)
    for x, w in zip(X, weights):
        assert w.shape == (3, len(x)) and w.dtype == np.float32
        assert (w >= 0).all()
        np.testing.assert_allclose(w.sum(axis=1), 1.0, rtol=1e-5)


def test_chunked_inference_matches_one_chunk(monkeypatch):
    X, y = max_task(50)
    dense = np.stack([x[:4] for x in X])
    clf = AttentionPoolingClassifier(**TINY).fit(X, y)
    expected = [clf.predict_proba(X), clf.predict_proba(dense)]
    expected_weights = clf.attention_weights(X)
    monkeypatch.setattr(_pooling_base, "_CHUNK_ELEMENTS", 200)  # chunks of a few rows
    np.testing.assert_allclose(clf.predict_proba(X), expected[0], atol=1e-6)
    np.testing.assert_allclose(clf.predict_proba(dense), expected[1], atol=1e-6)
    for got, want in zip(clf.attention_weights(X), expected_weights):
        np.testing.assert_allclose(got, want, atol=1e-6)


def test_key_instances_get_most_attention_on_digit_bags(digit_bags):
    (X_train, y_train, _), (X_test, y_test, keys) = digit_bags
    clf = AttentionPoolingClassifier(random_state=0).fit(X_train, y_train)
    assert clf.score(X_test, y_test) > 0.8
    on_keys, on_others = [], []
    for w, is_key, label in zip(clf.attention_weights(X_test), keys, y_test):
        if label:
            on_keys.extend(w[0, is_key])
            on_others.extend(w[0, ~is_key])
    assert np.mean(on_keys) > 3 * np.mean(on_others)


# -- the parameter-free attention --------------------------------------------


def test_fit_without_y_uses_the_mean_query_attention():
    X = ragged(20, n_features=3)
    pool = AttentionPooling(scaling="feature").fit(X)
    assert pool.net_ is None and pool.history_ is None and pool.target_type_ is None
    Xt = pool.transform(X)
    assert Xt.shape == (20, 3)

    steps = np.concatenate(X)
    z = (X[0] - steps.mean(0)) / steps.std(0)
    scores = z @ z.mean(0) / np.sqrt(3)
    alpha = np.exp(scores - scores.max())
    alpha /= alpha.sum()
    np.testing.assert_allclose(pool.attention_weights(X)[0][0], alpha, rtol=1e-4)
    np.testing.assert_allclose(Xt[0], alpha @ X[0], rtol=1e-4)

    constant = [np.ones((4, 3)), np.tile([1.0, 2.0, 3.0], (5, 1))]
    np.testing.assert_allclose(pool.attention_weights(constant)[1], 0.2, rtol=1e-5)
    np.testing.assert_allclose(pool.transform(constant)[1], [1, 2, 3], rtol=1e-5)


def test_fit_without_y_in_a_pipeline():
    X, y = max_task(40)
    pipe = make_pipeline(AttentionPooling(), LogisticRegression()).fit(X, y)
    assert pipe.predict(X).shape == (40,)


# -- targets and learning ----------------------------------------------------


@pytest.mark.parametrize(
    "y, target_type, n_outputs",
    [
        (np.arange(30) % 2, "binary", 2),
        (np.array(["a", "b", "c"] * 10), "multiclass", 3),
        (np.linspace(0, 1, 30), "continuous", 1),
        (np.random.RandomState(0).normal(size=(30, 2)), "continuous-multioutput", 2),
    ],
)
def test_task_is_inferred_from_y(y, target_type, n_outputs):
    X = ragged(30)
    pool = AttentionPooling(**TINY).fit(X, y)
    assert pool.target_type_ == target_type
    assert pool.net_.module_.head[-1].out_features == n_outputs
    criterion = pool.net_.criterion_.loss  # wrapped with the attention penalty
    expected = (
        torch.nn.MSELoss if "continuous" in target_type else torch.nn.CrossEntropyLoss
    )
    assert isinstance(criterion, expected)


def test_classifier_learns_max_above_threshold():
    X, y = max_task(400)
    X_test, y_test = max_task(300, seed=1)
    assert 0.35 < y.mean() < 0.65
    clf = AttentionPoolingClassifier(random_state=0).fit(X, y)
    assert balanced_accuracy_score(y_test, clf.predict(X_test)) > 0.85


def test_regressor_learns_the_max():
    X, _ = max_task(400)
    X_test, _ = max_task(300, seed=1)
    target = [x[:, 0].max() for x in X]
    reg = AttentionPoolingRegressor(random_state=0).fit(X, target)
    assert r2_score([x[:, 0].max() for x in X_test], reg.predict(X_test)) > 0.8


def test_classifier_labels_and_probabilities():
    X = ragged(45)
    y = np.array(["cat", "dog", "eel"] * 15)
    clf = AttentionPoolingClassifier(**TINY).fit(X, y)
    np.testing.assert_array_equal(clf.classes_, ["cat", "dog", "eel"])
    proba = clf.predict_proba(X)
    assert proba.shape == (45, 3)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    np.testing.assert_array_equal(clf.predict(X), clf.classes_[proba.argmax(1)])
    assert set(clf.predict(X)) <= set(y)


def test_regressor_multi_output_shape():
    X = ragged(30)
    Y = np.random.RandomState(0).normal(size=(30, 2)) * 100 + 50
    reg = AttentionPoolingRegressor(**TINY).fit(X, Y)
    assert reg.predict(X).shape == (30, 2)
    assert reg.fit(X, Y[:, 0]).predict(X).shape == (30,)


# -- scikit-learn integration ------------------------------------------------


def test_pipeline_and_grid_search_over_pooling_hyper_parameters():
    X, y = max_task(60)
    pipe = make_pipeline(
        AttentionPooling(
            hidden_layer_sizes=(8,), attention_size=8, max_epochs=2, random_state=0
        ),
        LogisticRegression(),
    )
    grid = {
        "attentionpooling__num_heads": [1, 2],
        "attentionpooling__attention": ["additive", "gated"],
    }
    search = GridSearchCV(pipe, grid, cv=2).fit(X, y)
    assert len(search.cv_results_["params"]) == 4
    assert search.best_params_.keys() == grid.keys()
    best = search.best_estimator_
    num_heads = search.best_params_["attentionpooling__num_heads"]
    assert best[0].transform(X).shape == (60, 8 * num_heads)
    assert best.predict(X).shape == (60,)


@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_random_state_gives_bit_identical_results(Estimator):
    X, y = max_task(40)
    method = "attention_weights"
    a = Estimator(**TINY).fit(X, y)
    b = Estimator(**TINY).fit(X, y)
    c = Estimator(**{**TINY, "random_state": 1}).fit(X, y)
    for wa, wb in zip(getattr(a, method)(X), getattr(b, method)(X)):
        np.testing.assert_array_equal(wa, wb)
    assert any(
        not np.array_equal(wa, wc)
        for wa, wc in zip(getattr(a, method)(X), getattr(c, method)(X))
    )


def test_fit_leaves_the_callers_torch_random_state_alone():
    X, y = max_task(20)
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    AttentionPoolingClassifier(**TINY).fit(X, y)
    torch.testing.assert_close(torch.rand(3), expected)


def test_clone_and_set_params():
    clf = AttentionPoolingClassifier(num_heads=2, hidden_layer_sizes=(4, 4))
    twin = clone(clf).set_params(attention="scaled_dot")
    assert twin.get_params()["num_heads"] == 2 and twin.attention == "scaled_dot"
    assert clf.attention == "auto"  # the default, resolved in fit


def test_warm_start_continues_training():
    X, y = max_task(30)
    clf = AttentionPoolingClassifier(warm_start=True, **TINY).fit(X, y)
    first = clf.net_
    weights = {k: v.clone() for k, v in clf.module_.state_dict().items()}
    clf.set_params(lr=0.5).fit(X, y)
    assert len(clf.history_) == 2 * TINY["max_epochs"]
    assert clf.net_.optimizer_.param_groups[0]["lr"] == 0.5  # the new setting
    # The fitted net is left as it was; the new one started from its weights.
    assert len(first.history) == TINY["max_epochs"]
    for name, value in first.module_.state_dict().items():
        torch.testing.assert_close(value, weights[name])
    with pytest.raises(ValueError, match="num_heads: 1 -> 2"):
        clf.set_params(num_heads=2).fit(X, y)  # would change the network
    cold = AttentionPoolingClassifier(**TINY).fit(X, y)
    assert len(cold.fit(X, y).history_) == TINY["max_epochs"]


def test_warm_start_keeps_the_fitted_classes():
    X, y = max_task(30)
    labels = np.array(["no", "yes"])[y]
    clf = AttentionPoolingClassifier(warm_start=True, **TINY).fit(X, labels)
    clf.fit(X[:10], np.where(labels[:10] == "yes", "yes", "yes"))  # a subset
    np.testing.assert_array_equal(clf.classes_, ["no", "yes"])
    with pytest.raises(ValueError, match="does not know: \\['maybe'\\]"):
        clf.fit(X, np.where(labels == "yes", "maybe", labels))


def test_validation_split_and_early_stopping():
    X, y = max_task(60)
    clf = AttentionPoolingClassifier(
        validation_fraction=0.25,
        early_stopping=True,
        n_iter_no_change=2,
        max_epochs=30,
        hidden_layer_sizes=(8,),
        attention_size=8,
        random_state=0,
    ).fit(X, y)
    assert "valid_loss" in clf.history_[-1]
    assert len(clf.history_) <= 30


def test_tags_say_what_input_is_accepted():
    for Estimator in ESTIMATORS:
        tags = Estimator().__sklearn_tags__()
        assert tags.input_tags.three_d_array and tags.input_tags.two_d_array
        assert not tags.input_tags.sparse and not tags.input_tags.allow_nan
    assert not AttentionPooling().__sklearn_tags__().target_tags.required
    assert AttentionPoolingClassifier().__sklearn_tags__().target_tags.required


# -- bad input ---------------------------------------------------------------


def test_bad_input_raises_clear_errors():
    X, y = max_task(20)
    pool = AttentionPooling(**TINY).fit(X, y)
    bad = [x.copy() for x in X]
    bad[3][1, 0] = np.nan
    with pytest.raises(ValueError, match=r"X\[3\] contains NaN or infinity"):
        pool.transform(bad)
    dense = np.stack([x[:4] for x in X])
    dense[5, 0, 1] = np.inf
    with pytest.raises(ValueError, match=r"X\[5\] contains NaN or infinity"):
        pool.fit(dense, y)
    with pytest.raises(ValueError, match=r"X\[0\] has 3 features; expected 2"):
        pool.transform([np.ones((4, 3))])
    with pytest.raises(ValueError, match=r"X\[1\] is an empty sequence"):
        pool.transform([np.ones((2, 2)), np.ones((0, 2))])
    with pytest.raises(ValueError, match=r"X\[1\] has 3 features; expected 2"):
        AttentionPooling().fit([np.ones((2, 2)), np.ones((2, 3))])
    with pytest.raises(ValueError, match="X has 20 samples but y has 19"):
        AttentionPoolingClassifier(**TINY).fit(X, y[:-1])
    with pytest.raises(TypeError, match="sparse"):
        pool.transform(sp.csr_matrix(np.ones((3, 4))))
    with pytest.raises(ValueError, match="Reshape your data"):
        pool.transform(np.ones(5))
    with pytest.raises(ValueError, match="Complex data not supported"):
        pool.fit([np.ones((2, 2)) * 1j], [0])
    with pytest.raises(TypeError, match=r"X\[0\] must hold numbers"):
        pool.fit([[["a", "b"]]], [0])


def test_bad_targets_and_parameters_raise_clear_errors():
    X = ragged(20)
    with pytest.raises(ValueError, match="1 class"):
        AttentionPoolingClassifier(**TINY).fit(X, np.zeros(20))
    with pytest.raises(ValueError, match="requires y"):
        AttentionPoolingRegressor(**TINY).fit(X, None)
    with pytest.raises(ValueError, match="Unsupported target.*multilabel-indicator"):
        AttentionPooling(**TINY).fit(X, np.eye(2, dtype=int)[np.arange(20) % 2])
    with pytest.raises(ValueError, match=r"y\[1\] is nan"):
        AttentionPoolingClassifier(**TINY).fit(X, ["a", np.nan] * 10)
    with pytest.raises(ValueError, match="y must hold one target per sample"):
        AttentionPoolingRegressor(**TINY).fit(X, 3.0)
    with pytest.raises(ValueError, match="y must be 1-D or 2-D"):
        AttentionPoolingRegressor(**TINY).fit(X, np.zeros((20, 1, 1)))
    with pytest.raises(ValueError, match="y holds values too large"):
        AttentionPoolingRegressor(**TINY).fit(X, np.linspace(-1, 1, 20) * 1e300)
    with pytest.raises(ValueError, match="too large for float32"):
        AttentionPooling().fit(np.full((3, 2, 2), 1e39))
    with pytest.raises(InvalidParameterError, match="attention"):
        AttentionPooling(attention="cosine").fit(X)
    with pytest.raises(ValueError, match="hidden_layer_sizes must be positive"):
        AttentionPoolingClassifier(hidden_layer_sizes=(8, 0)).fit(X, np.arange(20) % 2)
    with pytest.raises(ValueError, match="validation_fraction"):
        AttentionPoolingClassifier(
            early_stopping=True, validation_fraction=None
        ).fit(X, np.arange(20) % 2)


@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_unfitted_estimators_raise_not_fitted(Estimator):
    from sklearn.exceptions import NotFittedError

    with pytest.raises(NotFittedError):
        Estimator().attention_weights(ragged(2))


# -- persistence -------------------------------------------------------------


@pytest.mark.parametrize(
    "Estimator, y",
    [
        (AttentionPooling, None),
        (AttentionPooling, np.arange(20) % 2),
        (AttentionPooling, np.linspace(0, 1, 20)),
        (AttentionPoolingClassifier, np.array(["no", "yes"] * 10)),
        (AttentionPoolingClassifier, np.array([3, 7, 11, 3] * 5)),
        (AttentionPoolingClassifier, np.array([True, False] * 10)),
        (AttentionPoolingRegressor, np.random.RandomState(0).normal(size=(20, 2))),
    ],
)
def test_save_load_and_pickle_round_trip(Estimator, y, tmp_path):
    X = ragged(20)
    model = Estimator(num_heads=2, **TINY).fit(X, y)
    method = "transform" if Estimator is AttentionPooling else "predict"
    expected = getattr(model, method)(X)
    model.save(tmp_path / "model.safetensors")
    loaded = Estimator.load(tmp_path / "model.safetensors")
    unpickled = pickle.loads(pickle.dumps(model))
    for other in (loaded, unpickled):
        np.testing.assert_array_equal(getattr(other, method)(X), expected)
        assert other.get_params() == model.get_params()
        assert other.n_features_in_ == model.n_features_in_
    if Estimator is AttentionPoolingClassifier:
        np.testing.assert_array_equal(loaded.classes_, model.classes_)
        assert loaded.classes_.dtype == model.classes_.dtype
    if y is not None:
        assert len(loaded.history_) == TINY["max_epochs"]


def test_save_warns_about_settings_json_cannot_hold(tmp_path):
    from skorch.callbacks import EpochTimer

    X, y = max_task(20)
    clf = AttentionPoolingClassifier(
        callbacks=[("timer2", EpochTimer())], optimizer=torch.optim.RMSprop, **TINY
    ).fit(X, y)
    with pytest.warns(UserWarning, match=r"\['callbacks'\]"):
        clf.save(tmp_path / "clf.safetensors")
    loaded = AttentionPoolingClassifier.load(tmp_path / "clf.safetensors")
    assert loaded.callbacks is None and loaded.optimizer is torch.optim.RMSprop
    np.testing.assert_array_equal(loaded.predict_proba(X), clf.predict_proba(X))
    with pytest.raises(ValueError, match="holds a AttentionPoolingClassifier"):
        AttentionPoolingRegressor.load(tmp_path / "clf.safetensors")
    assert (
        AttentionPoolingClassifier.load(
            tmp_path / "clf.safetensors", callbacks=[("timer2", EpochTimer())]
        ).callbacks[0][0]
        == "timer2"
    )
    with pytest.raises(ValueError, match="attention"):
        AttentionPoolingClassifier.load(tmp_path / "clf.safetensors", attention="x")


def test_verbose_2_shows_inference_progress(capsys):
    X = np.random.RandomState(0).normal(size=(20, 5, 3))
    pooling = AttentionPooling(verbose=2).fit(X)
    capsys.readouterr()
    pooling.transform(X)
    assert "AttentionPooling" in capsys.readouterr().err
    pooling.set_params(verbose=0).transform(X)
    assert capsys.readouterr().err == ""


# -- deprecated spellings ------------------------------------------------------


def test_n_heads_still_works_for_one_release_with_a_future_warning():
    X, y = max_task(30)
    with pytest.warns(FutureWarning, match="num_heads=2"):
        old = AttentionPoolingClassifier(n_heads=2, **TINY).fit(X, y)
    new = AttentionPoolingClassifier(num_heads=2, **TINY).fit(X, y)
    np.testing.assert_array_equal(old.predict_proba(X), new.predict_proba(X))
    assert old.attention_weights(X[:1])[0].shape[0] == 2


def test_pooling_dot_is_the_scaled_dot_product_for_one_release():
    X, y = max_task(30)
    with pytest.warns(FutureWarning, match="renamed 'scaled_dot'"):
        old = AttentionPooling(attention="dot", **TINY).fit(X, y)
    new = AttentionPooling(attention="scaled_dot", **TINY).fit(X, y)
    np.testing.assert_array_equal(old.transform(X), new.transform(X))
