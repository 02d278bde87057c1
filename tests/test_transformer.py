"""Behaviour of AttentionSeq2Seq(architecture="transformer"): learning,
key/value-cached decoding, masking, regularisation, the scikit-learn API,
persistence and errors."""

import pickle

import numpy as np
import pytest
import torch
from _tiny_modules import tiny_transformer
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV

from sk_attention import AttentionSeq2Seq, plot_attention
from sk_attention._search import greedy_search
from sk_attention._seq2seq._data import collate_sources
from sk_attention._text import BOS, EOS, PAD

TINY = dict(
    architecture="transformer",
    hidden_size=16,
    num_heads=2,
    max_epochs=4,
    lr=1e-2,
    warmup_steps=4,
    batch_size=16,
    validation_fraction=None,
    early_stopping=False,
    random_state=0,
)
PAIRS_X = ["abc", "bca", "cab", "acb", "bac", "cba", "aab", "bba"] * 8
PAIRS_Y = [x[::-1] for x in PAIRS_X]


@pytest.fixture(scope="module")
def transformer_model(reversal_data):
    X_train, y_train, _, _ = reversal_data
    return AttentionSeq2Seq(
        architecture="transformer",
        hidden_size=64,
        num_heads=4,
        positional_encoding="learned",
        dropout=0.0,
        max_epochs=30,
        lr=5e-3,
        warmup_steps=50,
        validation_fraction=None,
        early_stopping=False,
        random_state=0,
    ).fit(X_train, y_train)


@pytest.fixture(scope="module")
def small_model():
    return AttentionSeq2Seq(**TINY).fit(PAIRS_X, PAIRS_Y)


def _encode(model, X):
    ids = [model.source_vocab_.encode(list(x)) for x in X]
    inputs = collate_sources(ids)
    return model.net_.module_.encode(inputs["source"], inputs["source_lengths"])


def test_learns_to_reverse_strings(transformer_model, reversal_data):
    _, _, X_test, y_test = reversal_data
    assert transformer_model.score(X_test, y_test) >= 0.95


def test_cached_greedy_decoding_equals_rerunning_the_whole_prefix(
    transformer_model, reversal_data
):
    _, _, X_test, _ = reversal_data
    module = transformer_model.net_.module_.eval()
    max_length = transformer_model.max_output_length_
    with torch.inference_mode():
        memory = _encode(transformer_model, X_test)
        cached = greedy_search(
            module, memory, module.decoder.start(memory), max_length
        )
        prefix = torch.full((len(X_test), 1), BOS)
        for _ in range(max_length):
            logits, _, _ = module.decoder(prefix, memory)  # no cache: all positions
            logits = logits[:, -1]
            logits[:, [PAD, BOS]] = float("-inf")
            prefix = torch.cat([prefix, logits.argmax(-1, keepdim=True)], dim=1)
    uncached = prefix[:, 1:]
    # Rows stop at their end token in the cached search; compare up to there.
    for row, (a, b) in enumerate(zip(cached.tolist(), uncached.tolist())):
        end = a.index(EOS) + 1
        assert a[:end] == b[:end], row


def test_padding_never_changes_a_prediction(transformer_model, reversal_data):
    _, _, X_test, _ = reversal_data
    # Twice the longest training source: the most the learned positions allow.
    long_ones = ["abcdefghabcdef", "hgfedcbahgfe"]
    alone = [transformer_model.predict([x])[0] for x in X_test[:20]]
    padded = transformer_model.predict(long_ones + list(X_test[:20]))[2:]
    assert list(padded) == alone
    # The teacher-forced scores of a short sample do not move either.
    module = transformer_model.net_.module_.eval()
    ids = [transformer_model.source_vocab_.encode(list(x)) for x in ["abc", *long_ones]]
    target = torch.tensor([[BOS, 5, 6, 7]])
    with torch.inference_mode():
        short = collate_sources(ids[:1])
        batch = collate_sources(ids)
        alone_logits = module(short["source"], short["source_lengths"], target)
        batch_logits = module(
            batch["source"], batch["source_lengths"], target.expand(3, -1)
        )
    torch.testing.assert_close(batch_logits[:1], alone_logits, rtol=1e-4, atol=1e-5)


def test_beam_search_runs_on_the_cache(transformer_model, reversal_data):
    _, _, X_test, y_test = reversal_data
    greedy = transformer_model.predict(X_test)
    transformer_model.set_params(beam_size=3)
    try:
        beam = transformer_model.predict(X_test)
        assert transformer_model.score(X_test, y_test) >= 0.95
    finally:
        transformer_model.set_params(beam_size=1)
    assert np.mean(beam == greedy) >= 0.95


def test_attention_weights_and_plot(transformer_model):
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    X = ["abc", "defgh"]
    predictions = transformer_model.predict(X)
    for w, x, out in zip(transformer_model.attention_weights(X), X, predictions):
        assert w.shape == (len(out), len(x))
        np.testing.assert_allclose(w.sum(axis=1), 1.0, rtol=1e-5)
    per_head = transformer_model.attention_weights(X, all_heads=True)
    assert per_head[1].shape == (1, 4, len(predictions[1]), 5)
    # The default is the last layer's weights averaged over heads.
    np.testing.assert_allclose(
        per_head[1][-1].mean(axis=0),
        transformer_model.attention_weights(X)[1],
        rtol=1e-5,
        atol=1e-6,
    )
    ax = plot_attention(transformer_model, "abc")
    assert ax.get_xlabel() == "source"


def test_same_random_state_gives_identical_models():
    first = AttentionSeq2Seq(**TINY).fit(PAIRS_X, PAIRS_Y)
    second = AttentionSeq2Seq(**TINY).fit(PAIRS_X, PAIRS_Y)
    for name, tensor in first.net_.module_.state_dict().items():
        assert torch.equal(tensor, second.net_.module_.state_dict()[name]), name


def test_grid_search_over_architecture():
    search = GridSearchCV(
        AttentionSeq2Seq(**{**TINY, "max_epochs": 2}),
        {"architecture": ["rnn", "transformer"]},
        cv=2,
    ).fit(PAIRS_X, PAIRS_Y)
    assert len(search.cv_results_["params"]) == 2
    assert search.predict(["abc"]).shape == (1,)


@pytest.mark.parametrize("positional_encoding", ["sinusoidal", "learned"])
def test_save_load_and_pickle_round_trip(positional_encoding, tmp_path):
    model = AttentionSeq2Seq(positional_encoding=positional_encoding, **TINY)
    model.fit(PAIRS_X, PAIRS_Y)
    expected = list(model.predict(PAIRS_X))
    model.save(tmp_path / "model.safetensors")
    restored = AttentionSeq2Seq.load(tmp_path / "model.safetensors")
    assert restored.get_params() == model.get_params()
    assert list(restored.predict(PAIRS_X)) == expected
    np.testing.assert_array_equal(
        restored.attention_weights(["abc"])[0], model.attention_weights(["abc"])[0]
    )
    assert list(pickle.loads(pickle.dumps(model)).predict(PAIRS_X)) == expected


def test_feed_forward_blocks_drop_no_units_inside():
    # Dropout acts on the blocks' outputs only (Vaswani et al. 2017).
    torch.manual_seed(0)
    module = tiny_transformer(8, 8, model_size=16, num_layers=2, dropout=0.5)
    module.train()
    x = torch.randn(3, 5, 16)
    for layer in (*module.encoder_layers, *module.decoder.layers):
        assert torch.equal(layer.feedforward(x), layer.feedforward(x))
    # The layer still drops the block's output.
    layer, mask = module.encoder_layers[0], torch.ones(3, 5, dtype=torch.bool)
    assert not torch.equal(layer(x, mask), layer(x, mask))


def test_feed_forward_weights_keep_the_names_of_earlier_files():
    # The block's inner dropout was removed; files saved with it name the
    # output layer 3, and must still load.
    module = tiny_transformer(8, 8, model_size=16)
    names = {
        name.split("feedforward.")[1]
        for name in module.state_dict()
        if "feedforward." in name
    }
    assert names == {"0.weight", "0.bias", "3.weight", "3.bias"}


def test_warmup_schedule_rises_then_decays():
    model = AttentionSeq2Seq(**{**TINY, "warmup_steps": 6, "max_epochs": 3})
    model.fit(PAIRS_X, PAIRS_Y)  # 4 batches per epoch, 12 in all
    lrs = [batch["event_lr"] for epoch in model.history_ for batch in epoch["batches"]]
    peak = int(np.argmax(lrs))
    assert lrs[peak] == pytest.approx(1e-2)
    assert np.all(np.diff(lrs[: peak + 1]) > 0) and np.all(np.diff(lrs[peak:]) < 0)
    constant = AttentionSeq2Seq(**{**TINY, "warmup_steps": 0}).fit(PAIRS_X, PAIRS_Y)
    assert all(g["lr"] == 1e-2 for g in constant.net_.optimizer_.param_groups)


def test_label_smoothing_reaches_the_loss():
    smoothed = AttentionSeq2Seq(**{**TINY, "label_smoothing": 0.2})
    smoothed.fit(PAIRS_X, PAIRS_Y)
    plain = AttentionSeq2Seq(**TINY).fit(PAIRS_X, PAIRS_Y)
    assert smoothed.net_.criterion_.label_smoothing == 0.2
    # A smoothed target cannot be fitted to zero loss: its loss stays higher.
    assert smoothed.history_[-1, "train_loss"] > plain.history_[-1, "train_loss"]


def test_attention_dropout_acts_in_training_only():
    torch.manual_seed(0)
    module = tiny_transformer(
        8, 8, model_size=16, feedforward_size=32, attention_dropout=0.5
    )
    source = torch.randint(3, 8, (4, 6))
    lengths = torch.full((4,), 6)
    target = torch.randint(3, 8, (4, 5))
    module.train()
    assert not torch.equal(
        module(source, lengths, target), module(source, lengths, target)
    )
    module.eval()
    assert torch.equal(module(source, lengths, target), module(source, lengths, target))


def test_learned_positions_refuse_longer_sources(small_model):
    model = clone(small_model).set_params(positional_encoding="learned")
    model.fit(PAIRS_X, PAIRS_Y)
    with pytest.raises(ValueError, match="positional_encoding='sinusoidal'"):
        model.predict(["abcabcabc"])
    assert clone(small_model).fit(PAIRS_X, PAIRS_Y).predict(["abcabcabc"]).shape == (1,)


@pytest.mark.parametrize(
    "params, match",
    [
        ({"architecture": "lstm"}, "architecture"),
        ({"hidden_size": 18, "num_heads": 4}, "multiple of num_heads"),
        ({"num_heads": 0}, "num_heads"),
        ({"positional_encoding": "rotary"}, "positional_encoding"),
        ({"label_smoothing": 1.0}, "label_smoothing"),
        ({"attention_dropout": -0.1}, "attention_dropout"),
        ({"warmup_steps": -1}, "warmup_steps"),
    ],
)
def test_bad_hyper_parameters_name_themselves(params, match):
    with pytest.raises(ValueError, match=match):
        AttentionSeq2Seq(**{**TINY, **params}).fit(PAIRS_X, PAIRS_Y)


def test_bad_input_is_refused_as_for_the_recurrent_model():
    with pytest.raises(ValueError, match=r"X\[1\] has no tokens"):
        AttentionSeq2Seq(**TINY).fit(["ab", ""], ["ab", "cd"])
    with pytest.raises(ValueError, match="same number of sequences"):
        AttentionSeq2Seq(**TINY).fit(["ab", "cd"], ["ab"])


def test_all_heads_needs_the_transformer():
    model = AttentionSeq2Seq(**{**TINY, "architecture": "rnn", "hidden_size": 16})
    model.fit(PAIRS_X, PAIRS_Y)
    with pytest.raises(ValueError, match="all_heads"):
        model.attention_weights(["abc"], all_heads=True)
