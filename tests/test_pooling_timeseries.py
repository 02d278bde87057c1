"""Time series in the pooling family: the FCN encoder, per-series scaling and
the training recipe that the "auto" rules size from the data."""

import json
import math
import pickle

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from _tiny_modules import tiny_pooling_net
from safetensors.torch import safe_open
from sklearn.base import clone
from skorch.callbacks import Callback

from sk_attention import AttentionPooling, AttentionPoolingClassifier
from sk_attention._persistence import model_digest
from sk_attention._pooling import _recipe
from sk_attention._pooling._encoders import FCNEncoder, _same_length
from sk_attention._sequences import length_mask

SMALL = dict(encoder_size=8, random_state=0)


def shapes(n_samples, seed=0, lengths=(20, 31)):
    """Ragged univariate series; the class is the shape (a bump early or
    late), whatever each series' level and amplitude."""
    rng = np.random.RandomState(seed)
    X, y = [], []
    for _ in range(n_samples):
        length = rng.randint(*lengths)
        label = rng.randint(2)
        steps = np.arange(length)
        centre = length * (0.25 if label else 0.75)
        bump = np.exp(-((steps - centre) ** 2) / 8.0)
        series = bump + rng.normal(scale=0.1, size=length)
        X.append((rng.uniform(0.5, 20) * series + rng.uniform(-50, 50))[:, None])
        y.append(label)
    return X, np.array(y)


#: The settings the time-series recipe resolves.
RECIPE = ("scaling", "attention", "dropout", "batch_size", "max_epochs",
          "lr_schedule", "keep_best")


def resolved(estimator, names=None):
    names = estimator._auto_rules if names is None else names
    return {name: getattr(estimator, f"{name}_") for name in names}


# -- the rule, as behaviour ---------------------------------------------------


@pytest.mark.parametrize("n_samples, batch_size", [(36, 3), (400, 16)])
def test_small_and_large_sets_get_about_the_same_updates(n_samples, batch_size):
    X, y = shapes(n_samples, lengths=(10, 12))
    clf = AttentionPoolingClassifier(encoder="fcn", max_time=0.3, **SMALL).fit(X, y)
    batches = math.ceil(n_samples / batch_size)
    assert clf.batch_size_ == batch_size
    updates = clf.max_epochs_ * batches
    assert _recipe.SERIES_UPDATES <= updates < _recipe.SERIES_UPDATES + batches
    # The time budget still bounds the fit: far fewer epochs ran.
    assert len(clf.history_) < clf.max_epochs_
    assert clf.get_params()["max_epochs"] == "auto"


def test_long_series_get_fewer_epochs_within_the_step_budget(monkeypatch):
    # A smaller step budget, so that a quick fit reaches it: 12 epochs of
    # 500,000 steps, where 3,000 updates would take 300.
    monkeypatch.setattr(_recipe, "SERIES_STEPS", 6_000_000)
    rng = np.random.RandomState(0)
    X = rng.normal(size=(20, 1, 25_000)).astype(np.float32)
    y = np.arange(20) % 2
    clf = AttentionPoolingClassifier(
        encoder="fcn", input_layout="channels_first", max_time=0.1, **SMALL
    ).fit(X, y)
    assert clf.max_epochs_ == 12
    assert len(clf.history_) == 1
    # Never fewer than the least number of epochs.
    monkeypatch.setattr(_recipe, "SERIES_STEPS", 1_000_000)
    clf.fit(X, y)
    assert clf.max_epochs_ == _recipe.MIN_SERIES_EPOCHS


def test_bags_keep_the_earlier_training_and_text_its_own():
    X, y = shapes(30, lengths=(4, 6))
    bags = AttentionPoolingClassifier(hidden_layer_sizes=(4,), random_state=0)
    assert resolved(bags.fit(X, y), RECIPE) == {
        "scaling": "global", "attention": "gated", "dropout": 0.2,
        "batch_size": 32, "max_epochs": 100, "lr_schedule": "constant",
        "keep_best": False,
    }
    texts = AttentionPoolingClassifier(encoder="gru", encoder_size=4, max_time=0.1)
    texts.fit(["good", "bad", "not bad", "not good"] * 5, [1, 0, 1, 0] * 5)
    # Text with an encoder is sized by the text rules (tests/test_pooling_auto.py).
    assert (texts.batch_size_, texts.max_epochs_) == (32, 100)
    assert (texts.n_iter_no_change_, texts.embedding_lr_) == (3, 1e-2)
    assert (texts.lr_schedule_, texts.keep_best_) == ("constant", False)


def test_time_series_get_the_fcn_recipe():
    X, y = shapes(40)
    clf = AttentionPoolingClassifier(encoder="fcn", max_epochs=2, **SMALL).fit(X, y)
    assert resolved(clf, RECIPE) == {
        "scaling": "series_and_global", "attention": "mean", "dropout": 0.0,
        "batch_size": 4, "max_epochs": 2, "lr_schedule": "cosine",
        "keep_best": True,
    }
    assert (clf.early_stopping_, clf.validation_fraction_) == (False, None)
    # Channels of multivariate series keep their levels.
    two = [np.hstack([x, -x]) for x in X]
    fcn = AttentionPoolingClassifier(encoder="fcn", max_epochs=1, **SMALL)
    assert fcn.fit(two, y).scaling_ == "global"
    # The published width, unless a width is given.
    published = AttentionPoolingClassifier(encoder="fcn", max_epochs=1)
    assert published.fit(X[:8], y[:8]).encoder_size_ == 128
    assert published.module_.embedding.output_size == 128
    # Another sequence encoder gets the training, not the FCN's network.
    conv = AttentionPoolingClassifier(encoder="conv", max_epochs=1, **SMALL)
    assert resolved(conv.fit(X, y))["attention"] == "gated"
    assert AttentionPoolingClassifier(encoder="conv", max_epochs=1).fit(
        X[:8], y[:8]).encoder_size_ == 64
    assert conv.batch_size_ == 4 and conv.lr_schedule_ == "cosine"


class _BatchLengths(Callback):
    """Records each epoch's training batches as sets of sequence lengths."""

    def on_train_begin(self, net, **kwargs):
        self.epochs = []

    def on_epoch_begin(self, net, **kwargs):
        self.epochs.append(set())

    def on_batch_begin(self, net, batch=None, training=False, **kwargs):
        if training:
            self.epochs[-1].add(frozenset(batch[0]["lengths"].tolist()))


@pytest.mark.parametrize("encoder, reshuffled", [("fcn", True), (None, False)])
def test_series_are_batched_afresh_every_epoch(encoder, reshuffled):
    # Every series has its own length, and the whole set fits in one pool
    # of length buckets: sorted batches would be the same every epoch.
    X, y = [], []
    for length in range(10, 40):
        X.append(np.sin(np.arange(length) / 3.0)[:, None])
        y.append(length % 2)
    record = _BatchLengths()
    AttentionPoolingClassifier(
        encoder=encoder, batch_size=3, max_epochs=3, callbacks=[record], **SMALL
    ).fit(X, np.array(y))
    first, *later = record.epochs
    assert all(len(batch) == 3 for batch in first)
    # Bags keep their length buckets: little padding, the same batches.
    assert all(epoch != first for epoch in later) == reshuffled
    assert all(epoch == first for epoch in later) != reshuffled


def test_the_plateau_schedule_halves_the_rate_down_to_a_tenth():
    X = np.zeros((30, 8, 1), dtype=np.float32)  # nothing to learn: a plateau
    y = np.arange(30) % 3
    settings = dict(encoder="fcn", max_epochs=40, batch_size=30, lr=1e-2, **SMALL)
    plateau = AttentionPoolingClassifier(lr_schedule="plateau", **settings)
    plateau.fit(X, y)
    rate = plateau.net_.optimizer_.param_groups[0]["lr"]
    halvings = math.log2(1e-2 / rate)
    # Halved at least twice (patience 5 epochs), never below lr / 10.
    assert rate >= 1e-3 - 1e-12
    assert rate == pytest.approx(1e-3) or (halvings >= 2 and halvings.is_integer())
    constant = AttentionPoolingClassifier(lr_schedule="constant", **settings)
    assert constant.fit(X, y).net_.optimizer_.param_groups[0]["lr"] == 1e-2


class _Rates(Callback):
    """Records the learning rate each epoch trains at."""

    def on_train_begin(self, net, **kwargs):
        self.rates = []

    def on_epoch_begin(self, net, **kwargs):
        self.rates.append(net.optimizer_.param_groups[0]["lr"])


def test_the_cosine_schedule_anneals_the_rate_to_zero_over_the_epochs():
    X, y = shapes(20)
    record = _Rates()
    clf = AttentionPoolingClassifier(
        encoder="fcn", max_epochs=8, lr=1e-2, callbacks=[record], **SMALL
    ).fit(X, y)
    assert clf.lr_schedule_ == "cosine"  # the time-series default
    cosine = [1e-2 * (1 + math.cos(math.pi * k / 8)) / 2 for k in range(8)]
    assert record.rates == pytest.approx(cosine)
    # Bags keep their constant rate.
    bags = AttentionPoolingClassifier(max_epochs=3, callbacks=[record], **SMALL)
    assert bags.fit(X, y).lr_schedule_ == "constant"
    assert record.rates == [bags.lr] * 3


class _Weights(Callback):
    """Records the weights after every epoch."""

    def on_train_begin(self, net, **kwargs):
        self.states = []

    def on_epoch_end(self, net, **kwargs):
        state = net.module_.state_dict()
        self.states.append({k: v.clone() for k, v in state.items()})


@pytest.mark.parametrize("keep_best", [True, False])
def test_the_weights_of_the_lowest_training_loss_are_kept(keep_best):
    X, y = shapes(40)
    record = _Weights()
    clf = AttentionPoolingClassifier(
        encoder="fcn", max_epochs=12, lr=0.05, lr_schedule="constant",
        keep_best=keep_best, callbacks=[record], **SMALL,
    ).fit(X, y)
    losses = clf.history_[:, "train_loss"]
    epoch = int(np.argmin(losses)) if keep_best else len(losses) - 1
    assert keep_best is False or epoch != len(losses) - 1  # the test can fail
    for name, value in clf.module_.state_dict().items():
        torch.testing.assert_close(value, record.states[epoch][name])


def test_mean_attention_takes_one_head():
    X, y = shapes(10)
    clf = AttentionPoolingClassifier(encoder="fcn", num_heads=2, max_epochs=1)
    with pytest.raises(ValueError, match="num_heads must be 1"):
        clf.fit(X, y)


# -- per-series scaling ---------------------------------------------------------


def levels(n_samples, seed=0):
    """Ragged noise series whose class is their level alone."""
    rng = np.random.RandomState(seed)
    y = rng.randint(2, size=n_samples)
    X = [(rng.normal(size=rng.randint(20, 31)) + 4.0 * label)[:, None] for label in y]
    return X, y


def fitted_fcn(scaling, make_series, n_test):
    """A small FCN classifier fitted on 60 series, and ``n_test`` new ones."""
    clf = AttentionPoolingClassifier(
        encoder="fcn", scaling=scaling, max_epochs=15, **SMALL
    )
    return clf.fit(*make_series(60)), make_series(n_test, seed=1)


@pytest.fixture(scope="module")
def fcn_model():
    return fitted_fcn("series", shapes, 30)


@pytest.fixture(scope="module")
def levels_model():
    return fitted_fcn("series_and_global", levels, 40)


def test_series_scaling_reads_shapes_whatever_the_level_and_amplitude(fcn_model):
    clf, (X, y) = fcn_model
    assert clf.score(X, y) >= 0.9
    moved = [3.0 * x - 7.0 for x in X]
    np.testing.assert_allclose(
        clf.predict_proba(moved), clf.predict_proba(X), rtol=1e-4, atol=1e-5
    )


def test_series_and_global_scaling_also_reads_levels(levels_model):
    both, (X_test, y_test) = levels_model
    assert both.module_.embedding.convolutions[0].in_channels == 2
    assert both.score(X_test, y_test) >= 0.9
    # Each series z-normalised on its own is noise whatever its class.
    shapes_only = clone(both).set_params(scaling="series").fit(*levels(60))
    assert shapes_only.score(X_test, y_test) <= 0.75


@pytest.mark.parametrize("model", ["fcn_model", "levels_model"])
def test_series_scaling_survives_save_pickle_and_onnx(model, request, tmp_path):
    clf, (X, _) = request.getfixturevalue(model)
    expected = clf.predict_proba(X)
    clf.save(tmp_path / "model.safetensors")
    loaded = AttentionPoolingClassifier.load(tmp_path / "model.safetensors")
    assert resolved(loaded) == resolved(clf)
    np.testing.assert_array_equal(loaded.predict_proba(X), expected)
    np.testing.assert_array_equal(
        pickle.loads(pickle.dumps(clf)).predict_proba(X), expected
    )
    sk_onnx = pytest.importorskip("sk_attention.onnx")
    pytest.importorskip("onnxruntime")
    runtime = sk_onnx.load(sk_onnx.export(clf, tmp_path / "onnx"))
    np.testing.assert_allclose(runtime.predict_proba(X), expected, atol=1e-5)


def test_files_from_before_the_recipe_train_as_they_did(fcn_model, tmp_path):
    clf, (X, _) = fcn_model
    path = tmp_path / "model.safetensors"
    clf.save(path)
    with safe_open(str(path), framework="pt", device="cpu") as handle:
        document = json.loads(handle.metadata()["sk_attention"])
        tensors = {name: handle.get_tensor(name) for name in handle.keys()}
    config = document["config"]
    for name in ("lr_schedule", "keep_best"):
        del config["params"][name]
        del config["resolved"][name]
    document["sha256"] = model_digest(config, tensors)
    from safetensors.torch import save_file

    save_file(tensors, str(path), metadata={"sk_attention": json.dumps(document)})
    loaded = AttentionPoolingClassifier.load(path)
    assert (loaded.lr_schedule_, loaded.keep_best_) == ("constant", False)
    np.testing.assert_array_equal(loaded.predict_proba(X), clf.predict_proba(X))


@pytest.mark.parametrize("scaling", ["series", "series_and_global"])
@pytest.mark.parametrize("training", [True, False], ids=["training", "inference"])
def test_padding_never_changes_a_series(training, scaling):
    torch.manual_seed(0)
    net = tiny_pooling_net(
        2, 3, encoder="fcn", encoder_size=8, attention="mean", scaling=scaling
    )
    lengths = torch.tensor([5, 9, 2])
    X = torch.randn(3, 9, 2) * 4 + 10
    loud = torch.cat([X, torch.full((3, 11, 2), 1e3)], 1)  # 11 more padded steps
    loud[torch.arange(20)[None, :] >= lengths[:, None]] = 1e3
    net.train(training)
    with torch.no_grad():
        short = net.pool(X, lengths)[0]
        long = net.pool(loud, lengths)[0]
    # Batch statistics in training count only real steps, so they agree too.
    torch.testing.assert_close(short, long, rtol=1e-4, atol=1e-5)


def test_a_batch_without_padding_trains_as_the_masked_one():
    # Equal lengths take batch normalisation's fused kernel in training; one
    # padded step more takes the masked path: the same outputs and statistics.
    nets = []
    for _ in range(2):
        torch.manual_seed(0)
        nets.append(tiny_pooling_net(1, 3, encoder="fcn", encoder_size=8,
                                     attention="mean", scaling="series").train())
    X = torch.randn(4, 12, 1) * 3 + 1
    lengths = torch.full((4,), 12)
    fused = nets[0].pool(X, lengths)[0]
    masked = nets[1].pool(torch.cat([X, torch.zeros(4, 1, 1)], 1), lengths)[0]
    torch.testing.assert_close(fused, masked, rtol=1e-4, atol=1e-5)
    for first, second in zip(nets[0].buffers(), nets[1].buffers()):
        torch.testing.assert_close(first, second, rtol=1e-4, atol=1e-6)
    # And the same gradients: the masked statistics pass theirs on too.
    weights = torch.randn_like(fused)
    (fused * weights).sum().backward()
    (masked * weights).sum().backward()
    for first, second in zip(nets[0].parameters(), nets[1].parameters()):
        torch.testing.assert_close(first.grad, second.grad, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize(
    "lengths", [[5, 9, 2], [9, 8, 9], [9, 1, 9]], ids=["ragged", "even", "one step"]
)
def test_a_ragged_batch_trains_as_its_series_convolved_alone(lengths):
    # Each series convolved on its own steps, batch statistics over all real
    # steps: what the encoder must compute in training, however ragged the
    # batch it lays out in one row.
    torch.manual_seed(0)
    encoder = FCNEncoder(2, 4).train()
    lengths = torch.tensor(lengths)
    mask = length_mask(lengths)
    X = torch.randn(3, 9, 2) * 3 + 1
    states = encoder(X, lengths, mask)
    weights = torch.randn_like(states)
    (states * weights).sum().backward()
    gradients = [parameter.grad.clone() for parameter in encoder.parameters()]
    encoder.zero_grad()

    alone = [X[i, :n].T[None, :, None] for i, n in enumerate(lengths)]  # (1, 2, 1, n)
    for convolution, norm in zip(encoder.convolutions, encoder.norms):
        alone = [_same_length(convolution, series) for series in alone]
        steps = torch.cat(alone, 3)
        # The running statistics are updated with the real steps' too.
        expected_mean = norm.momentum * steps.mean((0, 2, 3))
        expected_var = 1 - norm.momentum + norm.momentum * steps.var((0, 2, 3))
        torch.testing.assert_close(norm.running_mean, expected_mean.detach())
        torch.testing.assert_close(norm.running_var, expected_var.detach())
        mean = steps.mean((0, 2, 3), keepdim=True)
        std = torch.sqrt(steps.var((0, 2, 3), unbiased=False, keepdim=True) + norm.eps)
        scale, shift = norm.weight[:, None, None], norm.bias[:, None, None]
        alone = [F.relu((series - mean) / std * scale + shift) for series in alone]
    expected = torch.zeros_like(states)
    for i, (series, n) in enumerate(zip(alone, lengths)):
        expected[i, :n] = series[0, :, 0].T
    torch.testing.assert_close(states, expected, rtol=1e-4, atol=1e-5)
    (expected * weights).sum().backward()
    for gradient, parameter in zip(gradients, encoder.parameters()):
        torch.testing.assert_close(gradient, parameter.grad, rtol=1e-4, atol=1e-5)


def test_fit_without_y_accepts_series_scaling():
    X, _ = shapes(10)
    pooled = AttentionPooling(scaling="series").fit(X).transform(X)
    np.testing.assert_allclose(pooled[:, 0], [x.mean() for x in X], rtol=1e-5)
    # The z-normalised half of the query would be zero: it pools as "global".
    both = AttentionPooling(scaling="series_and_global").fit(X).transform(X)
    alone = AttentionPooling(scaling="global").fit(X).transform(X)
    np.testing.assert_array_equal(both, alone)
