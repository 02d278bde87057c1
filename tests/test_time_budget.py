"""Training within ``max_time``: when it stops, and how the rate anneals."""

import numpy as np
import pytest
import torch
from skorch import NeuralNetRegressor
from skorch.callbacks import Callback

from sk_attention import AttentionSeq2Seq
from sk_attention._training import TimeBudget

X = np.linspace(-1, 1, 64, dtype=np.float32)[:, None]
Y = 3 * X + 1


class _Clock:
    """A clock that moves only when told."""

    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now


class _EpochsTakeOneSecond(Callback):
    """Advances the clock at each epoch end, and records each batch's rate."""

    def __init__(self, clock):
        self.clock = clock

    def on_train_begin(self, net, **kwargs):
        self.rates_ = []

    def on_batch_end(self, net, training=False, **kwargs):
        if training:
            self.rates_.append(net.optimizer_.param_groups[0]["lr"])

    def on_epoch_end(self, net, **kwargs):
        self.clock.now += 1.0


def _fit(max_time, warmup_steps=0, batch_size=64, max_epochs=100):
    clock = _Clock()
    recorder = _EpochsTakeOneSecond(clock)
    net = NeuralNetRegressor(
        torch.nn.Linear,
        module__in_features=1,
        module__out_features=1,
        max_epochs=max_epochs,
        lr=0.1,
        batch_size=batch_size,
        train_split=None,
        callbacks=[
            ("time_budget", TimeBudget(max_time, warmup_steps, clock=clock)),
            ("recorder", recorder),
        ],
        verbose=0,
    )
    net.fit(X, Y)
    return net, recorder.rates_


def test_stops_before_an_epoch_that_would_overrun_the_budget():
    # Epochs of 1 s in 4.5 s: the fifth would end at 5 s, so it never starts,
    # and the history has no row for it.
    net, _ = _fit(max_time=4.5)
    assert len(net.history) == 4
    assert all("train_loss" in row for row in net.history)


def test_rate_falls_linearly_to_zero_at_the_end_of_the_last_epoch_that_fits():
    # After the first epoch the end is known: 4 s. The rate of each epoch
    # is lr * (1 - start / end); the first epoch uses the budget itself.
    _, rates = _fit(max_time=4.5)
    np.testing.assert_allclose(rates, [0.1, 0.075, 0.05, 0.025])


def test_warmup_rises_linearly_then_anneals():
    _, rates = _fit(max_time=2.5, warmup_steps=4, batch_size=8)
    # Eight batches an epoch; the clock reads 0 in the first epoch, 1 in the
    # second, whose end is 2 s.
    np.testing.assert_allclose(rates[:8], [0.025, 0.05, 0.075] + [0.1] * 5)
    np.testing.assert_allclose(rates[8:], [0.05] * 8)


def test_first_epoch_always_runs():
    net, _ = _fit(max_time=0.1)
    assert len(net.history) == 1


def test_max_epochs_still_bounds_training():
    net, _ = _fit(max_time=100.0, max_epochs=3)
    assert len(net.history) == 3


def test_rate_reaches_zero_at_max_epochs_when_it_ends_training_first():
    # The budget would fit 99 epochs of 1 s, but max_epochs ends at the fourth:
    # after the first epoch the end is known to be 4 s.
    _, rates = _fit(max_time=100.0, max_epochs=4)
    np.testing.assert_allclose(rates, [0.1, 0.075, 0.05, 0.025])


PAIRS = (["abc", "bca", "cab", "acb"] * 8, ["c b a", "a c b", "b a c", "b c a"] * 8)


@pytest.mark.parametrize("architecture", ["rnn", "transformer"])
def test_seq2seq_with_max_time_anneals_instead_of_its_own_schedule(architecture):
    model = AttentionSeq2Seq(
        architecture=architecture, hidden_size=16, embedding_dim=8,
        max_epochs=1000, max_time=1.0, early_stopping=False, random_state=0,
    ).fit(*PAIRS)
    names = [name for name, _ in model.net_.callbacks_]
    assert "time_budget" in names
    assert not {"halve_on_plateau", "warmup"} & set(names)
    assert len(model.history_) < 1000
    assert all("train_loss" in row for row in model.history_)
    assert model.net_.optimizer_.param_groups[0]["lr"] < model.lr_


def test_seq2seq_without_max_time_keeps_its_schedule():
    model = AttentionSeq2Seq(
        hidden_size=16, embedding_dim=8, max_epochs=1, random_state=0
    ).fit(*PAIRS)
    names = [name for name, _ in model.net_.callbacks_]
    assert "halve_on_plateau" in names and "time_budget" not in names


@pytest.mark.parametrize("max_time", [0, -1.0, "60"])
def test_invalid_max_time_is_refused_by_name(max_time):
    with pytest.raises((ValueError, TypeError), match="max_time"):
        AttentionSeq2Seq(max_time=max_time).fit(*PAIRS)


def test_pooling_with_max_time_anneals_its_constant_rate():
    from sk_attention import AttentionPoolingClassifier

    rng = np.random.RandomState(0)
    bags = rng.randn(40, 6, 3).astype("float32")
    labels = (bags[:, :, 0].mean(1) > 0).astype(int)
    model = AttentionPoolingClassifier(
        max_epochs=1000, max_time=1.0, random_state=0
    ).fit(bags, labels)
    assert "time_budget" in dict(model.net_.callbacks_)
    assert len(model.history_) < 1000
    assert model.net_.optimizer_.param_groups[0]["lr"] < model.lr


@pytest.mark.parametrize("schedule", ["cosine", "plateau"])
def test_pooling_epoch_schedules_give_way_to_max_time(schedule):
    from sk_attention import AttentionPoolingClassifier

    rng = np.random.RandomState(0)
    series = rng.randn(24, 16).astype("float32")
    labels = (series.mean(1) > 0).astype(int)
    settings = dict(
        encoder="fcn", encoder_size=8, lr_schedule=schedule, random_state=0
    )
    timed = AttentionPoolingClassifier(max_epochs=1000, max_time=1.0, **settings)
    names = [name for name, _ in timed.fit(series, labels).net_.callbacks_]
    assert "time_budget" in names and "lr_schedule" not in names
    untimed = AttentionPoolingClassifier(max_epochs=1, **settings).fit(series, labels)
    names = [name for name, _ in untimed.net_.callbacks_]
    assert "lr_schedule" in names and "time_budget" not in names
