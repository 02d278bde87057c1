"""Faults during training: interruption, divergence, checkpoint and resume.

A training interrupted with Ctrl-C keeps the weights it had reached; a loss
that becomes NaN or infinite stops training with an error that names the
learning rate; a run resumed from a skorch checkpoint, or continued with
``warm_start``, starts from the weights and optimizer state where the
previous one stopped.
"""

import numpy as np
import pytest
import torch
from skorch.callbacks import Callback, Checkpoint, LoadInitState

from sk_attention import (
    AttentionPoolingClassifier,
    AttentionPoolingRegressor,
    AttentionSeq2Seq,
)

SEQ2SEQ = dict(
    embedding_dim=8, hidden_size=8, max_epochs=4, batch_size=8, lr=1e-2,
    validation_fraction=None, early_stopping=False, random_state=0,
)
TEXT_X = ["abc", "bca", "cab", "acb", "bac", "cba", "aab", "bba"] * 3
TEXT_Y = [x[::-1] for x in TEXT_X]
POOLING = dict(
    hidden_layer_sizes=(8,), attention_size=8, max_epochs=4, batch_size=8,
    random_state=0,
)
_rng = np.random.RandomState(0)
SEQUENCES = _rng.normal(size=(32, 5, 3))
LABELS = (SEQUENCES[:, :, 0].max(axis=1) > 1).astype(int)


def seq2seq(**params):
    return AttentionSeq2Seq(**{**SEQ2SEQ, **params}), TEXT_X, TEXT_Y


def pooling(**params):
    return AttentionPoolingClassifier(**{**POOLING, **params}), SEQUENCES, LABELS


FAMILIES = pytest.mark.parametrize(
    "make", [seq2seq, pooling], ids=["seq2seq", "pooling"]
)


class InterruptAt(Callback):
    """Raise KeyboardInterrupt, as Ctrl-C would, at an epoch (and batch)."""

    def __init__(self, epoch, batch=None):
        self.epoch = epoch
        self.batch = batch

    def on_batch_end(self, net, **kwargs):
        batches = len(net.history[-1]["batches"])
        if self.batch is not None and (len(net.history), batches) == (
            self.epoch,
            self.batch,
        ):
            raise KeyboardInterrupt

    def on_epoch_end(self, net, **kwargs):
        if self.batch is None and len(net.history) == self.epoch:
            raise KeyboardInterrupt


class RecordStartState(Callback):
    """Copy the network's weights and the optimizer's state at train start.

    Runs after the callbacks listed before it (so after ``LoadInitState``).
    """

    def on_train_begin(self, net, **kwargs):
        self.weights = state_copy(net.module_.state_dict())
        self.optimizer = state_copy(net.optimizer_.state_dict()["state"])


class PoisonWeights(Callback):
    """Make the weights non-finite at the end of an epoch, as divergence does."""

    def on_epoch_end(self, net, **kwargs):
        if len(net.history) == 1:
            with torch.no_grad():
                for parameter in net.module_.parameters():
                    parameter.fill_(float("inf"))


def state_copy(state):
    if isinstance(state, torch.Tensor):
        return state.detach().clone()
    if isinstance(state, dict):
        return {key: state_copy(value) for key, value in state.items()}
    return state


def assert_states_equal(first, second):
    assert first.keys() == second.keys()
    for key in first:
        if isinstance(first[key], dict):
            assert_states_equal(first[key], second[key])
        elif isinstance(first[key], torch.Tensor):
            torch.testing.assert_close(first[key], second[key], rtol=0, atol=0)
        else:
            assert first[key] == second[key]


def weights(model):
    return model.net_.module_.state_dict()


def outputs(model, X):
    if isinstance(model, AttentionSeq2Seq):
        return model.attention_weights(X[:4])
    return [model.predict_proba(X)]


# -- KeyboardInterrupt -----------------------------------------------------


@FAMILIES
def test_interrupt_at_an_epoch_end_keeps_exactly_the_weights_reached(make):
    interrupted, X, y = make(callbacks=[InterruptAt(epoch=2)])
    interrupted.fit(X, y)
    reference, _, _ = make(max_epochs=2)
    reference.fit(X, y)
    assert len(interrupted.history_) == 2
    assert_states_equal(weights(interrupted), weights(reference))
    for a, b in zip(outputs(interrupted, X), outputs(reference, X)):
        np.testing.assert_array_equal(a, b)


@FAMILIES
def test_interrupt_mid_epoch_leaves_a_usable_model_with_the_last_weights(make):
    recorder = RecordStartState()
    interrupted, X, y = make(callbacks=[recorder, InterruptAt(epoch=3, batch=1)])
    interrupted.fit(X, y)
    after_two, _, _ = make(max_epochs=2)
    after_two.fit(X, y)
    assert len(interrupted.history_) == 3
    # One more optimizer step was taken than after two epochs.
    differs = [
        not torch.equal(a, b)
        for a, b in zip(weights(interrupted).values(), weights(after_two).values())
    ]
    assert any(differs)
    for result in outputs(interrupted, X):
        assert np.isfinite(result).all()
    assert len(interrupted.predict(X[:3])) == 3


# -- non-finite loss -------------------------------------------------------


@FAMILIES
def test_a_non_finite_loss_stops_training_naming_the_learning_rate(make):
    model, X, y = make(callbacks=[PoisonWeights()], gradient_clip=None, lr=2e-3)
    with pytest.raises(ValueError, match=r"loss became (nan|inf) at epoch 2") as error:
        model.fit(X, y)
    assert "lr=0.002" in str(error.value)
    assert "set gradient_clip" in str(error.value)


def test_a_diverging_learning_rate_is_caught_when_it_happens():
    y = SEQUENCES[:, :, 0].max(axis=1) * 1e3
    model = AttentionPoolingRegressor(**{**POOLING, "optimizer": "sgd", "lr": 1e3})
    with pytest.raises(ValueError, match=r"lr=1000\.0 is too high") as error:
        model.fit(SEQUENCES, y)
    # Stopped at the first bad batch, not after every remaining epoch.
    assert "epoch 4" not in str(error.value)


def test_the_message_says_when_gradient_clipping_did_not_help():
    model, X, y = seq2seq(callbacks=[PoisonWeights()], gradient_clip=1.0)
    with pytest.raises(ValueError, match=r"gradient_clip=1\.0 did not prevent it"):
        model.fit(X, y)


# -- checkpoint and resume -------------------------------------------------


@FAMILIES
def test_resume_from_a_checkpoint_continues_where_training_stopped(make, tmp_path):
    checkpoint = Checkpoint(monitor=None, dirname=str(tmp_path))
    first, X, y = make(max_epochs=2, callbacks=[checkpoint])
    first.fit(X, y)

    recorder = RecordStartState()
    resume = Checkpoint(monitor=None, dirname=str(tmp_path))
    second, _, _ = make(max_epochs=2, callbacks=[LoadInitState(resume), recorder])
    second.fit(X, y)

    assert_states_equal(recorder.weights, weights(first))
    assert_states_equal(recorder.optimizer, first.net_.optimizer_.state_dict()["state"])
    assert len(second.history_) == 4
    assert second.history_[:2, "train_loss"] == first.history_[:, "train_loss"]


@FAMILIES
def test_an_interrupted_run_resumes_from_its_last_checkpoint(make, tmp_path):
    checkpoint = Checkpoint(monitor=None, dirname=str(tmp_path))
    interrupted, X, y = make(callbacks=[checkpoint, InterruptAt(epoch=3, batch=1)])
    interrupted.fit(X, y)
    reached, _, _ = make(max_epochs=2)
    reached.fit(X, y)

    recorder = RecordStartState()
    resumed, _, _ = make(
        max_epochs=1,
        callbacks=[LoadInitState(Checkpoint(monitor=None, dirname=str(tmp_path))),
                   recorder],
    )
    resumed.fit(X, y)
    # The checkpoint of epoch 2 is where the resumed run starts.
    assert_states_equal(recorder.weights, weights(reached))
    assert len(resumed.history_) == 3


@FAMILIES
def test_warm_start_continues_from_the_fitted_weights(make):
    recorder = RecordStartState()
    model, X, y = make(max_epochs=2, warm_start=True, callbacks=[recorder])
    model.fit(X, y)
    reached = state_copy(weights(model))
    optimizer_reached = state_copy(model.net_.optimizer_.state_dict()["state"])
    model.fit(X, y)
    assert_states_equal(recorder.weights, reached)
    assert_states_equal(recorder.optimizer, optimizer_reached)
    assert len(model.history_) == 4


@FAMILIES
def test_without_warm_start_a_second_fit_starts_again(make):
    recorder = RecordStartState()
    model, X, y = make(max_epochs=2, callbacks=[recorder])
    model.fit(X, y)
    first_start, reached = recorder.weights, state_copy(weights(model))
    model.fit(X, y)
    assert len(model.history_) == 2
    assert_states_equal(recorder.weights, first_start)
    assert any(not torch.equal(first_start[name], reached[name]) for name in reached)


@FAMILIES
def test_a_warm_start_trains_with_the_new_settings_on_the_same_network(make):
    model, X, y = make(max_epochs=2, warm_start=True)
    model.fit(X, y)
    fitted_net = model.net_
    model.set_params(lr=0.0123, max_epochs=1).fit(X, y)
    assert model.net_.optimizer_.param_groups[0]["lr"] == 0.0123
    assert len(model.history_) == 3 and len(fitted_net.history) == 2
    name = "hidden_size" if isinstance(model, AttentionSeq2Seq) else "attention_size"
    with pytest.raises(ValueError, match=f"{name}: .* -> 12"):
        model.set_params(**{name: 12}).fit(X, y)
    assert len(model.history_) == 3
