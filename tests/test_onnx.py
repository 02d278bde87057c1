"""Export to ONNX and the torch-free runtime: the same answers as torch."""

import json
import re
import subprocess
import sys
import textwrap

import numpy as np
import pytest
import torch
from numpy.testing import assert_allclose
from sklearn.exceptions import NotFittedError

from sk_attention import (
    AttentionPooling,
    AttentionPoolingClassifier,
    AttentionPoolingRegressor,
    AttentionSeq2Seq,
)
from sk_attention import onnx as sk_onnx
from sk_attention._onnx._graphs import DecoderStepGraph, EncoderGraph, flatten
from sk_attention._search import ban_padding_and_start
from sk_attention._text import BOS

pytest.importorskip("onnxruntime")

POOLING_TINY = dict(
    hidden_layer_sizes=(8,), attention_size=8, max_epochs=3, random_state=0
)
SEQ2SEQ_TINY = dict(
    hidden_size=16,
    max_epochs=8,
    lr=1e-2,
    batch_size=32,
    validation_fraction=None,
    early_stopping=False,
    random_state=0,
    # Small batches, so that predictions run over several batches of
    # several lengths.
    predict_batch_size=24,
)
SEQ2SEQ_MODELS = {
    "gru": dict(architecture="rnn", cell="gru", embedding_dim=8),
    "gru-parallel-decoder": dict(
        architecture="rnn", cell="gru", embedding_dim=8, input_feeding=False
    ),
    "lstm-2-layers-general": dict(
        architecture="rnn", cell="lstm", num_layers=2, attention="general"
    ),
    "transformer": dict(architecture="transformer", num_heads=2, num_layers=2),
}


def ragged(n_samples, n_features=2, seed=0, min_length=2, max_length=9):
    rng = np.random.RandomState(seed)
    lengths = rng.randint(min_length, max_length + 1, size=n_samples)
    return [rng.normal(size=(n, n_features)).astype(np.float32) for n in lengths]


# -- attention pooling --------------------------------------------------------


def _fit_pooling(name):
    X = ragged(60)
    label = np.array([x[:, 0].max() > 1.3 for x in X])
    if name == "pooling-unsupervised":
        return AttentionPooling().fit(X)
    if name == "pooling":
        return AttentionPooling(num_heads=2, **POOLING_TINY).fit(X, label)
    if name == "classifier":
        y = np.where(label, "high", "low")
        return AttentionPoolingClassifier(**POOLING_TINY).fit(X, y)
    y = np.stack([[x[:, 0].max(), x[:, 1].mean()] for x in X])
    return AttentionPoolingRegressor(**POOLING_TINY).fit(X, y)


@pytest.fixture(
    scope="module",
    params=["pooling-unsupervised", "pooling", "classifier", "regressor"],
)
def pooling_export(request, tmp_path_factory):
    estimator = _fit_pooling(request.param)
    directory = sk_onnx.export(estimator, tmp_path_factory.mktemp("pooling"))
    return estimator, sk_onnx.load(directory)


@pytest.mark.parametrize(
    "X",
    [ragged(31, seed=1, max_length=14), ragged(1, seed=2)],
    ids=["ragged-longer-than-training", "one-sample"],
)
def test_pooling_runtime_equals_torch(pooling_export, X):
    estimator, served = pooling_export
    if isinstance(estimator, AttentionPooling):
        assert_allclose(served.transform(X), estimator.transform(X), atol=1e-5)
    for got, expected in zip(
        served.attention_weights(X), estimator.attention_weights(X)
    ):
        assert got.shape == expected.shape
        assert_allclose(got, expected, atol=1e-5)
    if isinstance(estimator, AttentionPoolingClassifier):
        assert_allclose(served.predict_proba(X), estimator.predict_proba(X), atol=1e-5)
        assert (served.predict(X) == estimator.predict(X)).all()
        assert served.classes_.tolist() == estimator.classes_.tolist()
    if isinstance(estimator, AttentionPoolingRegressor):
        assert_allclose(served.predict(X), estimator.predict(X), rtol=1e-5, atol=1e-5)


def test_pooling_runtime_takes_dense_arrays(pooling_export):
    estimator, served = pooling_export
    X = np.random.RandomState(3).normal(size=(5, 4, 2)).astype(np.float32)
    for got, expected in zip(
        served.attention_weights(X), estimator.attention_weights(X)
    ):
        assert_allclose(got, expected, atol=1e-5)


@pytest.mark.parametrize(
    "X",
    [
        np.zeros((2, 4, 3)),
        [np.ones((3, 2)), np.ones((0, 2))],
        [np.full((2, 2), np.nan)],
    ],
    ids=["features", "empty-sequence", "nan"],
)
def test_pooling_runtime_checks_input_as_the_estimator(pooling_export, X):
    """The runtime and the estimator share one validation, so one message."""
    estimator, served = pooling_export
    with pytest.raises(ValueError) as expected:
        estimator.attention_weights(X)
    with pytest.raises(ValueError, match=re.escape(str(expected.value))):
        served.attention_weights(X)


def test_quantized_export_stays_close(tmp_path):
    estimator = _fit_pooling("classifier")
    served = sk_onnx.load(sk_onnx.export(estimator, tmp_path, quantize=True))
    X = ragged(200, seed=4)
    assert served.metadata_["quantized"]
    agreement = (served.predict(X) == estimator.predict(X)).mean()
    assert agreement >= 0.9
    assert np.abs(served.predict_proba(X) - estimator.predict_proba(X)).max() < 0.1


# -- sequence to sequence -----------------------------------------------------


@pytest.fixture(scope="module", params=list(SEQ2SEQ_MODELS))
def seq2seq_export(request, reversal_data, tmp_path_factory):
    X_train, y_train, _, _ = reversal_data
    estimator = AttentionSeq2Seq(**SEQ2SEQ_MODELS[request.param], **SEQ2SEQ_TINY)
    estimator.fit(X_train[:500], y_train[:500])
    directory = sk_onnx.export(estimator, tmp_path_factory.mktemp("seq2seq"))
    return estimator, directory


@pytest.mark.parametrize("beam_size", [1, 3])
def test_seq2seq_runtime_predicts_the_same_strings(
    seq2seq_export, reversal_data, beam_size
):
    estimator, directory = seq2seq_export
    _, _, X_test, _ = reversal_data
    # Held-out sources, and longer ones than any seen in training.
    X = [*X_test, "abcdefghabcd", "hgfedcbahgfedcba"]
    served = sk_onnx.load(directory)
    served.beam_size = beam_size
    estimator = estimator.set_params(beam_size=beam_size)
    expected = estimator.predict(X)
    assert len(set(expected)) > 20  # the model writes varied outputs
    assert served.predict(X).tolist() == expected.tolist()
    assert served.predict(X[:1]).tolist() == expected[:1].tolist()
    estimator.set_params(beam_size=1)


def test_a_model_trained_in_bfloat16_exports_and_serves_the_same(
    reversal_data, tmp_path
):
    """bfloat16 is a training precision: the parameters, and the graphs, stay
    float32."""
    X_train, y_train, X_test, _ = reversal_data
    estimator = AttentionSeq2Seq(
        architecture="rnn", cell="gru", hidden_size=16, embedding_dim=8,
        input_feeding=False, precision="bfloat16", max_epochs=1, lr=1e-2,
        validation_fraction=None, early_stopping=False, random_state=0,
    ).fit(X_train[:32], y_train[:32])
    served = sk_onnx.load(sk_onnx.export(estimator, tmp_path))
    X = X_test[:40]
    assert served.predict(X).tolist() == estimator.predict(X).tolist()
    assert_allclose(
        served.score_samples(X, X), estimator.score_samples(X, X),
        rtol=1e-4, atol=1e-4,
    )


def test_seq2seq_metadata_holds_the_encoding(seq2seq_export, reversal_data):
    estimator, directory = seq2seq_export
    served = sk_onnx.load(directory)
    config = served.metadata_["config"]
    assert config["source_vocab"] == estimator.source_vocab_.tokens
    assert config["target_vocab"] == estimator.target_vocab_.tokens
    assert served.max_output_length_ == estimator.max_output_length_
    assert served.metadata_["decoding"]["batch_size"] == 24
    _, _, X_test, y_test = reversal_data
    assert served.score(X_test, y_test) == estimator.score(X_test, y_test)


def test_seq2seq_runtime_gives_the_nbest_lists_and_scores_of_the_estimator(
    seq2seq_export, reversal_data
):
    estimator, directory = seq2seq_export
    _, _, X_test, y_test = reversal_data
    X, y = [*X_test[:60], "hgfedcbahgfedcba"], [*y_test[:60], "abcdefgh"]
    served = sk_onnx.load(directory)
    outputs, log_probs, scores = served.predict_nbest(X, n_best=3, beam_size=4)
    expected = estimator.predict_nbest(X, n_best=3, beam_size=4)
    assert outputs.tolist() == expected[0].tolist()
    assert_allclose(log_probs, expected[1], rtol=1e-4, atol=1e-4)
    assert_allclose(scores, expected[2], rtol=1e-4, atol=1e-4)
    assert_allclose(
        served.score_samples(X, y), estimator.score_samples(X, y),
        rtol=1e-4, atol=1e-4,
    )
    for got, want in zip(
        served.score_samples(X, outputs[:, 1], per_token=True),
        estimator.score_samples(X, outputs[:, 1], per_token=True),
    ):
        assert got.shape == want.shape
        assert_allclose(got, want, rtol=1e-4, atol=1e-4)
    with pytest.raises(ValueError, match="n_best=4 is more than beam_size=3"):
        served.predict_nbest(X, n_best=4, beam_size=3)
    with pytest.raises(ValueError, match="X and y must hold the same number"):
        served.score_samples(X, y[:-1])


def test_the_graphs_run_the_models_own_encode_and_step(seq2seq_export,
                                                       reversal_data):
    """The encoder graph is the model's ``encode`` and ``decoder.start``;
    the step graph its ``next_token_logits``, on a memory that holds only
    what the graphs pass (None in the other fields, so a step that read
    them would fail here, not compute something else)."""
    estimator, _ = seq2seq_export
    module, architecture = estimator.module_.eval(), estimator.architecture
    _, _, X_test, _ = reversal_data
    ids = [estimator.source_vocab_.encode(list(x)) for x in X_test[:16]]
    lengths = torch.tensor([len(i) for i in ids])
    source = torch.zeros((len(ids), int(lengths.max())), dtype=torch.long)
    for row, row_ids in enumerate(ids):
        source[row, : len(row_ids)] = torch.from_numpy(row_ids)
    targets = torch.randint(4, len(estimator.target_vocab_.tokens), (4, len(ids)))
    with torch.inference_mode():
        memory = module.encode(source, lengths)
        state = module.decoder.start(memory)
        leaves, structure = flatten(state)
        encoded = EncoderGraph(module, architecture)(source, lengths)
        n_memory = len(encoded) - len(leaves)
        graph_state = encoded[n_memory:]
        for got, want in zip(graph_state, leaves):
            torch.testing.assert_close(got, want)
        step = DecoderStepGraph(module, architecture, n_memory, structure)
        for tokens in [torch.full((len(ids),), BOS), *targets]:
            logits, state = module.next_token_logits(tokens, state, memory)
            log_probs, *graph_state = step(tokens, *encoded[:n_memory], *graph_state)
            torch.testing.assert_close(
                log_probs, torch.log_softmax(ban_padding_and_start(logits), -1)
            )
            for got, want in zip(graph_state, flatten(state)[0]):
                torch.testing.assert_close(got, want)


# -- torch-free serving, errors -----------------------------------------------


def test_runtime_imports_no_torch(seq2seq_export, tmp_path):
    estimator, directory = seq2seq_export
    X = ["abc", "hgfedcba"]
    pooling = _fit_pooling("classifier")
    X_pool = ragged(5, seed=5)
    np.save(tmp_path / "X.npy", np.stack([x[:2] for x in X_pool]))
    pooling_dir = sk_onnx.export(pooling, tmp_path / "pooling")
    script = textwrap.dedent(
        f"""
        import json, sys
        import numpy as np

        class NoTorch:
            def find_spec(self, name, path=None, target=None):
                if name == "torch" or name.startswith("torch."):
                    raise ImportError("torch is blocked")

        sys.meta_path.insert(0, NoTorch())
        from sk_attention.onnx import load

        served = load({str(directory)!r})
        seq2seq = served.predict({X!r}).tolist()
        nbest = served.predict_nbest({X!r}, n_best=2, beam_size=2)[0].tolist()
        scored = served.score_samples({X!r}, {X!r}).tolist()
        labels = load({str(pooling_dir)!r}).predict(
            np.load({str(tmp_path / "X.npy")!r})
        ).tolist()
        print(json.dumps([seq2seq, nbest, scored, labels, "torch" in sys.modules]))
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    seq2seq, nbest, scored, labels, imported_torch = json.loads(done.stdout)
    assert not imported_torch
    assert seq2seq == estimator.predict(X).tolist()
    assert nbest == estimator.predict_nbest(X, n_best=2, beam_size=2)[0].tolist()
    assert_allclose(scored, estimator.score_samples(X, X), rtol=1e-4, atol=1e-4)
    X_dense = np.stack([x[:2] for x in X_pool])
    assert labels == pooling.predict(X_dense).tolist()


def test_export_without_onnx_names_the_extra(monkeypatch, tmp_path):
    estimator = _fit_pooling("classifier")
    monkeypatch.setitem(sys.modules, "onnx", None)  # import onnx now fails
    with pytest.raises(ImportError, match=r"pip install 'sk-attention\[onnx\]'"):
        sk_onnx.export(estimator, tmp_path)
    assert not any(tmp_path.iterdir())


def test_load_without_onnxruntime_names_the_extra(monkeypatch, tmp_path):
    directory = sk_onnx.export(_fit_pooling("classifier"), tmp_path)
    monkeypatch.setitem(sys.modules, "onnxruntime", None)
    with pytest.raises(ImportError, match=r"pip install 'sk-attention\[onnx\]'"):
        sk_onnx.load(directory)


def test_export_refuses_what_it_cannot_write(tmp_path):
    with pytest.raises(TypeError, match="takes a fitted AttentionSeq2Seq"):
        sk_onnx.export(object(), tmp_path)
    with pytest.raises(NotFittedError):
        sk_onnx.export(AttentionPoolingClassifier(), tmp_path)
    custom = AttentionSeq2Seq(
        source_tokenizer=lambda text: text.split("-"), max_epochs=1, hidden_size=8
    ).fit(["a-b", "b-a"], ["ab", "ba"])
    with pytest.raises(ValueError, match="source_tokenizer is a custom callable"):
        sk_onnx.export(custom, tmp_path)
    with pytest.raises(FileNotFoundError, match="holds no export"):
        sk_onnx.load(tmp_path)


def test_export_leaves_the_estimator_as_it_was(tmp_path):
    estimator = _fit_pooling("classifier")
    X = ragged(10, seed=6)
    before = estimator.predict_proba(X)
    estimator.module_.train()
    sk_onnx.export(estimator, tmp_path)
    assert estimator.module_.training
    estimator.module_.eval()
    assert_allclose(estimator.predict_proba(X), before)


@pytest.mark.parametrize("encoder", ["gru", "lstm", "conv", "transformer"])
def test_pooling_with_a_sequence_encoder_serves_the_same_probabilities(
    encoder, tmp_path
):
    rng = np.random.RandomState(0)
    X = [rng.normal(size=(n, 3)) for n in rng.randint(4, 15, size=40)]
    y = np.array([int(x[:, 0].argmax() > len(x) / 2) for x in X])
    clf = AttentionPoolingClassifier(
        encoder=encoder, encoder_size=8, encoder_layers=2, max_epochs=2,
        random_state=0,
    ).fit(X, y)
    runtime = sk_onnx.load(sk_onnx.export(clf, tmp_path / "model"))
    longer = [rng.normal(size=(30, 3)), *X[:5]]
    np.testing.assert_allclose(
        runtime.predict_proba(longer), clf.predict_proba(longer), atol=1e-5
    )
    np.testing.assert_array_equal(runtime.predict(X), clf.predict(X))


def test_a_pooling_model_fitted_on_text_is_refused_naming_why(tmp_path):
    texts = ["good film", "bad film", "fine film", "awful film"] * 5
    labels = [1, 0] * 10
    clf = AttentionPoolingClassifier(encoder="gru", max_epochs=1).fit(texts, labels)
    with pytest.raises(ValueError, match="fitted on text"):
        sk_onnx.export(clf, tmp_path / "model")
    assert not (tmp_path / "model").exists()
