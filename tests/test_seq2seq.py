"""Behaviour of AttentionSeq2Seq: learning, the scikit-learn API, decoding,
persistence and errors."""

import pickle
import warnings

import joblib
import numpy as np
import pytest
import torch
from _tiny_modules import tiny_rnn
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.model_selection import GridSearchCV, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer

from sk_attention import AttentionSeq2Seq
from sk_attention._attention import ATTENTION_SCORES

# Small and fast, but enough to learn short copy-like tasks.
TINY = dict(
    embedding_dim=16,
    hidden_size=32,
    max_epochs=4,
    lr=1e-2,
    batch_size=16,
    validation_fraction=None,
    early_stopping=False,
    random_state=0,
)
PAIRS_X = ["abc", "bca", "cab", "acb", "bac", "cba", "aab", "bba"] * 8
PAIRS_Y = [x[::-1] for x in PAIRS_X]


@pytest.fixture(scope="module")
def reversal_model(reversal_data):
    X_train, y_train, _, _ = reversal_data
    return AttentionSeq2Seq(
        embedding_dim=32,
        hidden_size=64,
        max_epochs=20,
        lr=3e-3,
        random_state=0,
    ).fit(X_train, y_train)


@pytest.fixture(scope="module")
def small_model():
    return AttentionSeq2Seq(**TINY).fit(PAIRS_X, PAIRS_Y)


def test_learns_to_reverse_strings(reversal_model, reversal_data):
    _, _, X_test, y_test = reversal_data
    assert reversal_model.score(X_test, y_test) >= 0.95
    assert len(reversal_model.history_) >= 2
    assert "valid_loss" in reversal_model.history_[-1]


def test_predict_returns_strings_in_an_object_array(small_model):
    predictions = small_model.predict(["abc", "cab"])
    assert predictions.dtype == object and predictions.shape == (2,)
    assert all(isinstance(p, str) for p in predictions)


def test_token_lists_in_give_token_lists_out():
    X = [list(x) for x in PAIRS_X]
    y = [list(x) for x in PAIRS_Y]
    model = AttentionSeq2Seq(**TINY).fit(X, y)
    predictions = model.predict(X[:3])
    assert all(isinstance(p, list) for p in predictions)
    assert all(isinstance(t, str) for p in predictions for t in p)


def test_word_tokenizers_join_with_spaces():
    X = ["one two", "two one", "one one", "two two"] * 8
    y = [" ".join(reversed(x.split())) for x in X]
    model = AttentionSeq2Seq(
        source_tokenizer="word", target_tokenizer="word", **{**TINY, "max_epochs": 15}
    ).fit(X, y)
    assert model.source_vocab_.tokens == ["one", "two"] or set(
        model.source_vocab_.tokens
    ) == {"one", "two"}
    assert model.score(X, y) == 1.0


@pytest.mark.parametrize("attention", sorted(ATTENTION_SCORES))
@pytest.mark.parametrize("cell", ["lstm", "gru"])
def test_every_attention_and_cell_trains_and_predicts(attention, cell):
    model = AttentionSeq2Seq(attention=attention, cell=cell, **TINY)
    model.fit(PAIRS_X, PAIRS_Y)
    first_loss = model.history_[0, "train_loss"]
    assert model.history_[-1, "train_loss"] < first_loss
    assert model.predict(["abc"]).shape == (1,)


def test_two_layers_unidirectional_gru():
    model = AttentionSeq2Seq(num_layers=2, bidirectional=False, cell="gru", **TINY)
    model.fit(PAIRS_X, PAIRS_Y)
    assert model.history_[-1, "train_loss"] < model.history_[0, "train_loss"]


def test_attention_weights_shapes_and_rows(small_model):
    weights = small_model.attention_weights(["abc", "ab", "abca"])
    predictions = small_model.predict(["abc", "ab", "abca"])
    for w, source, output in zip(weights, ["abc", "ab", "abca"], predictions):
        assert w.shape == (len(output), len(source))
        np.testing.assert_allclose(w.sum(axis=1), 1.0, rtol=1e-5)
    ((w, source, output),) = small_model.attention_weights(["abc"], return_tokens=True)
    assert source == ["a", "b", "c"] and "".join(output) == predictions[0]


def test_beam_search_of_width_one_equals_greedy(reversal_model, reversal_data):
    _, _, X_test, _ = reversal_data
    greedy = reversal_model.predict(X_test)
    beam = clone(reversal_model).set_params(beam_size=1)
    beam.__dict__.update(
        {k: v for k, v in vars(reversal_model).items() if k.endswith("_")}
    )
    assert list(beam.predict(X_test)) == list(greedy)


def test_beam_search_is_at_least_as_likely_and_as_good(reversal_model, reversal_data):
    _, _, X_test, y_test = reversal_data
    greedy_score = reversal_model.score(X_test, y_test)
    reversal_model.set_params(beam_size=4)
    try:
        assert reversal_model.score(X_test, y_test) >= greedy_score - 0.01
    finally:
        reversal_model.set_params(beam_size=1)


def test_max_output_length_bounds_predictions(small_model):
    assert small_model.max_output_length_ == 2 * 3 + 1
    bounded = clone(small_model).set_params(max_output_length=2).fit(PAIRS_X, PAIRS_Y)
    assert all(len(p) <= 2 for p in bounded.predict(PAIRS_X))


def test_unseen_characters_map_to_unknown(small_model):
    predictions = small_model.predict(["xyz", "a😀c", "ab\u0301c"])
    assert predictions.shape == (3,)


def test_same_random_state_gives_identical_models():
    first = AttentionSeq2Seq(**TINY).fit(PAIRS_X, PAIRS_Y)
    second = AttentionSeq2Seq(**TINY).fit(PAIRS_X, PAIRS_Y)
    for a, b in zip(
        first.attention_weights(PAIRS_X[:8]), second.attention_weights(PAIRS_X[:8])
    ):
        np.testing.assert_array_equal(a, b)
    assert list(first.predict(PAIRS_X)) == list(second.predict(PAIRS_X))


def test_fit_does_not_change_the_global_torch_random_state():
    import torch

    before = torch.get_rng_state()
    AttentionSeq2Seq(**{**TINY, "max_epochs": 1}).fit(PAIRS_X, PAIRS_Y)
    assert torch.equal(before, torch.get_rng_state())


def test_clone_get_params_set_params():
    model = AttentionSeq2Seq(hidden_size=32, attention="dot")
    cloned = clone(model)
    assert cloned.get_params() == model.get_params()
    cloned.set_params(attention="general", beam_size=3)
    assert cloned.attention == "general" and model.attention == "dot"


def test_grid_search_over_attention_and_hidden_size():
    search = GridSearchCV(
        AttentionSeq2Seq(**{**TINY, "max_epochs": 2}),
        {"attention": ["additive", "dot"], "hidden_size": [16, 32]},
        cv=2,
    ).fit(PAIRS_X, PAIRS_Y)
    assert len(search.cv_results_["params"]) == 4
    assert set(search.best_params_) == {"attention", "hidden_size"}
    assert search.predict(["abc"]).shape == (1,)


def test_cross_val_score_uses_exact_match():
    scores = cross_val_score(AttentionSeq2Seq(**TINY), PAIRS_X, PAIRS_Y, cv=2)
    assert scores.shape == (2,) and np.all((0 <= scores) & (scores <= 1))


def test_pipeline_with_a_function_transformer_in_front():
    lower = FunctionTransformer(lambda X: [x.lower() for x in X])
    pipe = make_pipeline(lower, AttentionSeq2Seq(**{**TINY, "max_epochs": 15}))
    pipe.fit([x.upper() for x in PAIRS_X], PAIRS_Y)
    assert pipe.score(["ABC", "CAB"], ["cba", "bac"]) == 1.0


def test_pickle_and_joblib_round_trip(small_model, tmp_path):
    expected = small_model.predict(PAIRS_X)
    restored = pickle.loads(pickle.dumps(small_model))
    assert list(restored.predict(PAIRS_X)) == list(expected)
    joblib.dump(small_model, tmp_path / "model.joblib")
    assert list(joblib.load(tmp_path / "model.joblib").predict(PAIRS_X)) == list(
        expected
    )


def test_save_load_round_trip(small_model, tmp_path):
    path = tmp_path / "model.safetensors"
    small_model.save(path)
    restored = AttentionSeq2Seq.load(path)
    assert restored.get_params() == small_model.get_params()
    assert list(restored.predict(PAIRS_X)) == list(small_model.predict(PAIRS_X))
    for a, b in zip(
        restored.attention_weights(PAIRS_X[:4]),
        small_model.attention_weights(PAIRS_X[:4]),
    ):
        np.testing.assert_array_equal(a, b)


def test_save_keeps_torch_optimizers_and_defaults_what_it_cannot_hold(tmp_path):
    from skorch.callbacks import EpochTimer

    class Custom(torch.optim.SGD):
        pass

    path = tmp_path / "model.safetensors"
    model = AttentionSeq2Seq(**{**TINY, "optimizer": torch.optim.RMSprop}).fit(
        PAIRS_X, PAIRS_Y
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the class is stored by name
        model.save(path)
    assert AttentionSeq2Seq.load(path).optimizer is torch.optim.RMSprop
    model.set_params(
        optimizer=Custom,
        callbacks=[("timer", EpochTimer())],
        random_state=np.random.RandomState(0),
    )
    with pytest.warns(UserWarning, match="callbacks', 'optimizer', 'random_state"):
        model.save(path)
    restored = AttentionSeq2Seq.load(path)
    assert restored.optimizer == "adam" and restored.callbacks is None
    assert restored.random_state is None
    assert list(restored.predict(PAIRS_X)) == list(model.predict(PAIRS_X))


def test_load_refuses_a_pickle_and_runs_nothing(small_model, tmp_path):
    marker = tmp_path / "ran"
    path = tmp_path / "model.safetensors"

    class Payload:
        def __reduce__(self):
            return (open, (str(marker), "w"))

    path.write_bytes(pickle.dumps(Payload()))
    with pytest.raises(ValueError, match="not a readable sk_attention model"):
        AttentionSeq2Seq.load(path)
    assert not marker.exists()


def test_custom_tokenizer_must_be_given_again_on_load(tmp_path):
    tokenizer = (lambda s: s.split("-"), "-".join)
    X = ["a-b", "b-a", "a-a", "b-b"] * 8
    model = AttentionSeq2Seq(
        source_tokenizer=tokenizer, target_tokenizer=tokenizer, **TINY
    ).fit(X, X)
    model.save(tmp_path / "m.safetensors")
    with pytest.raises(ValueError, match="custom source_tokenizer"):
        AttentionSeq2Seq.load(tmp_path / "m.safetensors")
    restored = AttentionSeq2Seq.load(
        tmp_path / "m.safetensors",
        source_tokenizer=tokenizer,
        target_tokenizer=tokenizer,
    )
    assert list(restored.predict(X)) == list(model.predict(X))


def test_warm_start_continues_training():
    model = AttentionSeq2Seq(**{**TINY, "max_epochs": 2, "warm_start": True})
    model.fit(PAIRS_X, PAIRS_Y)
    vocab = model.source_vocab_
    model.fit(PAIRS_X, PAIRS_Y)
    assert len(model.history_) == 4 and model.source_vocab_ is vocab


def test_predict_before_fit_raises():
    with pytest.raises(NotFittedError):
        AttentionSeq2Seq().predict(["abc"])


@pytest.mark.parametrize(
    "X, y, error, match",
    [
        (["ab", "cd"], ["ab"], ValueError, "same number of sequences, got 2 and 1"),
        ([], [], ValueError, "X is empty"),
        ("abc", ["abc"], TypeError, "single str"),
        (["ab", 3], ["ab", "cd"], TypeError, r"X\[1\] is a int"),
        (["ab", None], ["ab", "cd"], TypeError, r"X\[1\] is a NoneType"),
        ([["a", 1]], [["a"]], TypeError, r"X\[0\]\[1\] is a int"),
        ([1.5, 2.5], ["a", "b"], TypeError, r"X\[0\] is a float"),
        (["ab", ""], ["ab", "cd"], ValueError, r"X\[1\] has no tokens"),
        (np.array([["a", "b"]]), ["a"], ValueError, "one-dimensional"),
    ],
)
def test_bad_input_is_refused_with_a_clear_message(X, y, error, match):
    with pytest.raises(error, match=match):
        AttentionSeq2Seq(**TINY).fit(X, y)


@pytest.mark.parametrize(
    "params, match",
    [
        ({"attention": "luong"}, "attention"),
        ({"cell": "rnn"}, "cell"),
        ({"hidden_size": 0}, "hidden_size"),
        ({"hidden_size": 33}, "hidden_size must be even"),
        ({"target_tokenizer": 3}, "target_tokenizer"),
        ({"device": "tpu"}, "device"),
        ({"validation_fraction": None, "early_stopping": True}, "validation_fraction"),
    ],
)
def test_bad_hyper_parameters_name_themselves(params, match):
    with pytest.raises((ValueError, TypeError), match=match):
        AttentionSeq2Seq(**{**TINY, **params}).fit(PAIRS_X, PAIRS_Y)


def test_a_bare_callable_cannot_produce_strings():
    with pytest.raises(ValueError, match="join tokens back"):
        AttentionSeq2Seq(target_tokenizer=str.split, **TINY).fit(PAIRS_X, PAIRS_Y)


def test_inputs_are_not_modified():
    X, y = list(PAIRS_X), [list(t) for t in PAIRS_Y]
    X_copy, y_copy = list(X), [list(t) for t in y]
    AttentionSeq2Seq(**{**TINY, "max_epochs": 1}).fit(X, y)
    assert X == X_copy and y == y_copy


def test_pandas_series_input(small_model):
    pd = pytest.importorskip("pandas")
    predictions = small_model.predict(pd.Series(["abc", "cab"]))
    assert predictions.shape == (2,)


def test_inference_streams_in_chunks_and_names_the_right_sample(small_model):
    from sk_attention._seq2seq import _estimator

    model = clone(small_model).set_params(predict_batch_size=2)
    model.__dict__.update(
        {k: v for k, v in vars(small_model).items() if k.endswith("_")}
    )
    chunk = _estimator._CHUNK_BATCHES * 2
    X = PAIRS_X[:8] * (chunk // 4 + 1)  # more than one chunk
    assert list(model.predict(X)) == list(small_model.predict(X))
    weights = model.attention_weights(X)
    assert len(weights) == len(X)
    assert all(w.base is None for w in weights)  # copies, not batch views
    bad = list(X) + [""]
    with pytest.raises(ValueError, match=rf"X\[{len(X)}\] has no tokens"):
        model.predict(bad)


def test_verbose_2_shows_inference_progress(small_model, capsys):
    model = clone(small_model).set_params(verbose=2)
    model.__dict__.update(
        {k: v for k, v in vars(small_model).items() if k.endswith("_")}
    )
    model.predict(PAIRS_X)
    assert "AttentionSeq2Seq" in capsys.readouterr().err
    small_model.predict(PAIRS_X)
    assert capsys.readouterr().err == ""


@pytest.mark.parametrize("attention", ["additive", "dot", "scaled_dot"])
def test_attention_dropout_acts_in_training_only(attention):
    module = tiny_rnn(
        8,
        8,
        embedding_dim=8,
        hidden_size=16,
        attention=attention,
        attention_size=16,
        attention_dropout=0.5,
    )
    source = torch.randint(4, 8, (4, 6))
    lengths = torch.full((4,), 6)
    target = torch.randint(4, 8, (4, 5))
    module.train()
    assert not torch.equal(
        module(source, lengths, target), module(source, lengths, target)
    )
    module.eval()
    logits, weights = module(source, lengths, target, need_weights=True)
    assert torch.equal(logits, module(source, lengths, target))
    torch.testing.assert_close(weights.sum(-1), torch.ones(4, 5))


def test_attention_dropout_trains_the_recurrent_model():
    model = AttentionSeq2Seq(attention_dropout=0.2, **TINY).fit(PAIRS_X, PAIRS_Y)
    assert model.history_[-1, "train_loss"] < model.history_[0, "train_loss"]


def test_early_stopping_restores_the_epoch_of_lowest_decoded_error(reversal_data):
    from skorch.callbacks import Callback

    X, y, _, _ = reversal_data
    states = []

    class RecordWeights(Callback):
        def on_epoch_end(self, net, **kwargs):
            states.append({k: v.clone() for k, v in net.module_.state_dict().items()})

    model = AttentionSeq2Seq(
        embedding_dim=16, hidden_size=16, max_epochs=6, lr=0.01, random_state=0,
        callbacks=[RecordWeights()],
    ).fit(X[:300], y[:300])
    errors = model.history_[:, "valid_error"]
    accuracies = model.history_[:, "valid_acc"]
    assert all(0 <= e for e in errors) and all(0 <= a <= 1 for a in accuracies)
    assert errors[-1] < errors[0]  # it learns, and the metric sees it
    best = int(np.argmin(errors))
    for name, value in model.module_.state_dict().items():
        torch.testing.assert_close(value, states[best][name], rtol=0, atol=0)


@pytest.mark.parametrize("lr_patience", [0, 2])
def test_learning_rate_halves_after_lr_patience_epochs_without_a_new_best(
    reversal_data, lr_patience
):
    X_train, y_train, _, _ = reversal_data
    model = AttentionSeq2Seq(
        embedding_dim=16,
        hidden_size=32,
        max_epochs=12,
        lr=3e-3,
        lr_patience=lr_patience,
        early_stopping=False,
        random_state=0,
    ).fit(X_train[:300], y_train[:300])
    # ReduceLROnPlateau's rule: a new best beats the best so far by 1e-4
    # (relative); more than lr_patience epochs without one halve the rate.
    best, waiting, halvings = np.inf, 0, 0
    for error in model.history_[:, "valid_error"]:
        if error < best * (1 - 1e-4):
            best, waiting = error, 0
        else:
            waiting += 1
        if waiting > lr_patience:
            halvings, waiting = halvings + 1, 0
    final_lr = model.net_.optimizer_.param_groups[0]["lr"]
    assert final_lr == pytest.approx(3e-3 * 0.5**halvings)
    if lr_patience == 0:
        assert halvings > 0  # the data make some epochs worse than the best
