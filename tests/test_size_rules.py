"""Settings that default to "auto" are resolved in fit from the data size."""

import json

import numpy as np
import pytest
import torch
from safetensors import safe_open
from safetensors.torch import save_file
from sklearn.base import clone

from sk_attention import AttentionSeq2Seq
from sk_attention._base import TrainingData
from sk_attention._persistence import model_digest
from sk_attention._seq2seq import _sizing
from sk_attention._seq2seq._sizing import (
    LARGE_DATA,
    LONG_BUDGET,
    SIZE_RULES,
    native_bfloat16,
)

SMALL = {
    "input_feeding": True, "embedding_dim": 64, "hidden_size": 128,
    "num_layers": 1, "dropout": 0.1,
    "label_smoothing": 0.0, "lr": 1e-3, "lr_patience": 2, "precision": "float32",
    "max_epochs": 20, "validation_fraction": 0.1, "early_stopping": True,
}
LARGE = {
    "input_feeding": False, "embedding_dim": 128, "hidden_size": 256,
    "num_layers": 2, "dropout": 0.1,
    "label_smoothing": 0.1, "lr": 2e-3, "lr_patience": 0,
    "precision": "bfloat16" if native_bfloat16("cpu") else "float32",
    "max_epochs": 20, "validation_fraction": 0.1, "early_stopping": True,
}
QUICK = dict(max_epochs=1, validation_fraction=None, early_stopping=False,
             random_state=0)
#: What QUICK sets of SIZE_RULES' parameters.
FIXED = {"max_epochs": 1, "validation_fraction": None, "early_stopping": False}


def resolved(model):
    return {name: getattr(model, f"{name}_") for name in SIZE_RULES}


def test_max_time_lifts_the_epoch_bound():
    training = TrainingData(range(10))
    assert SIZE_RULES["max_epochs"](AttentionSeq2Seq(), None, training) == 20
    timed = AttentionSeq2Seq(max_time=60)
    assert SIZE_RULES["max_epochs"](timed, None, training) >= 10_000


def _resolve_in_order(model, n_pairs):
    """What fit resolves, each rule seeing the values resolved before it."""
    return model._resolve_auto(None, TrainingData(range(n_pairs)), warm_start=False)


def test_a_time_budget_on_large_data_trains_on_every_pair():
    timed = AttentionSeq2Seq(max_time=60)
    large = _resolve_in_order(timed, LARGE_DATA)
    assert (large["validation_fraction"], large["early_stopping"]) == (None, False)
    # Few pairs keep the split that early stopping watches, and so does a
    # request for early stopping.
    small = _resolve_in_order(timed, LARGE_DATA - 1)
    assert (small["validation_fraction"], small["early_stopping"]) == (0.1, True)
    stopping = _resolve_in_order(timed.set_params(early_stopping=True), LARGE_DATA)
    assert stopping["validation_fraction"] == 0.1
    # Without a budget nothing changes.
    untimed = _resolve_in_order(AttentionSeq2Seq(), LARGE_DATA)
    assert (untimed["validation_fraction"], untimed["early_stopping"]) == (0.1, True)


def test_a_timed_fit_on_large_data_holds_nothing_out(reversal_data, monkeypatch):
    monkeypatch.setattr(_sizing, "LARGE_DATA", 100)
    X, y = reversal_data[0][:120], reversal_data[1][:120]
    model = AttentionSeq2Seq(max_time=600, max_epochs=1, precision="float32",
                             random_state=0).fit(X, y)
    assert (model.validation_fraction_, model.early_stopping_) == (None, False)
    assert "valid_loss" not in model.history_[-1]
    batches = model.history_[-1, "batches"]
    assert sum(batch["train_batch_size"] for batch in batches) == 120


def test_the_rules_switch_to_the_larger_model_at_large_data():
    model = AttentionSeq2Seq()
    for n_pairs, expected in [(LARGE_DATA - 1, SMALL), (LARGE_DATA, LARGE)]:
        training = TrainingData(range(n_pairs))
        got = {name: rule(model, None, training) for name, rule in SIZE_RULES.items()}
        assert got == expected
    transformer = AttentionSeq2Seq(architecture="transformer")
    large = TrainingData(range(LARGE_DATA))
    assert SIZE_RULES["lr"](transformer, None, large) == 1e-3
    assert SIZE_RULES["precision"](transformer, None, large) == "float32"


def test_an_hour_in_bfloat16_widens_the_recurrent_model_on_large_data():
    def width(n_pairs, **params):
        model = AttentionSeq2Seq(**params)
        return _resolve_in_order(model, n_pairs)["hidden_size"]

    hour = {"max_time": LONG_BUDGET, "precision": "bfloat16"}
    assert width(LARGE_DATA, **hour) == 512
    assert width(LARGE_DATA, **{**hour, "max_time": LONG_BUDGET - 1}) == 256
    assert width(LARGE_DATA, **{**hour, "max_time": None}) == 256
    assert width(LARGE_DATA, **{**hour, "precision": "float32"}) == 256
    # "auto" precision widens where it resolves to bfloat16.
    auto = 512 if native_bfloat16("cpu") else 256
    assert width(LARGE_DATA, max_time=LONG_BUDGET) == auto
    # Few pairs keep the small model, and the Transformer its width.
    assert width(LARGE_DATA - 1, **hour) == 128
    assert width(LARGE_DATA, **hour, architecture="transformer") == 256


def test_bfloat16_training_is_autocast_and_evaluation_stays_float32(reversal_data):
    X, y = reversal_data[0], reversal_data[1]
    model = AttentionSeq2Seq(precision="bfloat16", input_feeding=False,
                             dropout=0.0, lr=1e-2,
                             **{**QUICK, "max_epochs": 10}).fit(X, y)
    module = model.module_
    assert module.training_precision == "bfloat16"
    assert all(p.dtype == torch.float32 for p in module.parameters())
    batch = torch.tensor([[5, 6, 7]]), torch.tensor([3]), torch.tensor([[1, 5, 6]])
    with torch.no_grad():
        evaluated = module.eval()(*batch)
        trained = module.train()(*batch)  # no dropout: only the format differs
        module.training_precision = "float32"
        trained_in_float32 = module(*batch)
    assert trained.dtype == evaluated.dtype == torch.float32  # the loss's input
    assert not torch.equal(trained, evaluated)
    torch.testing.assert_close(trained, evaluated, rtol=0, atol=0.25)
    assert torch.equal(trained_in_float32, evaluated)
    assert model.score(*reversal_data[2:]) > 0.5  # and it learned in bfloat16


def test_fit_on_few_pairs_keeps_the_small_model_and_records_it(reversal_data):
    X, y = reversal_data[0][:200], reversal_data[1][:200]
    model = AttentionSeq2Seq(**QUICK).fit(X, y)
    assert resolved(model) == {**SMALL, **FIXED}
    assert model.get_params()["hidden_size"] == "auto"  # the parameter is kept
    decoder = model.module_.decoder
    assert decoder.hidden_size == 128 and len(decoder.cells) == 1
    assert decoder.input_feeding
    assert model.net_.criterion_.label_smoothing == 0.0
    assert model.net_.optimizer_.param_groups[0]["lr"] == 1e-3


def test_fit_builds_what_the_rules_resolve(reversal_data, monkeypatch):
    monkeypatch.setattr(_sizing, "LARGE_DATA", 100)
    X, y = reversal_data[0][:120], reversal_data[1][:120]
    model = AttentionSeq2Seq(hidden_size=64, **QUICK).fit(X, y)
    assert resolved(model) == {**LARGE, **FIXED, "hidden_size": 64}  # a set value wins
    decoder = model.module_.decoder
    assert decoder.hidden_size == 64 and len(decoder.cells) == 2
    assert not decoder.input_feeding
    assert decoder.embedding_dim == 128 and decoder.dropout.p == 0.1
    assert model.net_.criterion_.label_smoothing == 0.1
    assert model.net_.optimizer_.param_groups[0]["lr"] == 2e-3
    # A clone has the parameters, not what they resolved to.
    assert clone(model).get_params()["num_layers"] == "auto"


def test_a_warm_start_keeps_what_the_first_fit_resolved(reversal_data, monkeypatch):
    X, y = reversal_data[0][:120], reversal_data[1][:120]
    model = AttentionSeq2Seq(warm_start=True, **QUICK).fit(X, y)
    monkeypatch.setattr(_sizing, "LARGE_DATA", 100)  # more data now counts as large
    model.fit(X, y)
    assert resolved(model) == {**SMALL, **FIXED}
    assert len(model.history_) == 2


def test_resolved_settings_round_trip_through_save_and_load(reversal_data, tmp_path):
    X, y = reversal_data[0][:200], reversal_data[1][:200]
    model = AttentionSeq2Seq(num_layers=2, **QUICK).fit(X, y)
    model.save(tmp_path / "model.safetensors")
    loaded = AttentionSeq2Seq.load(tmp_path / "model.safetensors")
    assert resolved(loaded) == resolved(model) == {**SMALL, **FIXED, "num_layers": 2}
    assert loaded.get_params() == model.get_params()
    X_test = reversal_data[2][:50]
    assert list(loaded.predict(X_test)) == list(model.predict(X_test))


def _rewrite(path, edit):
    with safe_open(str(path), framework="pt") as handle:
        document = json.loads(handle.metadata()["sk_attention"])
        tensors = {name: handle.get_tensor(name) for name in handle.keys()}
    edit(document)
    document["sha256"] = model_digest(document["config"], tensors)
    save_file(tensors, str(path), metadata={"sk_attention": json.dumps(document)})


def test_a_file_from_before_auto_settings_and_without_input_feeding_loads(
    reversal_data, tmp_path
):
    # Files of format 1.2 hold explicit settings, no resolved values, and no
    # input_feeding or precision: their decoders fed their attentional
    # vectors back, and trained in float32.
    X, y = reversal_data[0][:200], reversal_data[1][:200]
    settings = {**SMALL, **QUICK}
    model = AttentionSeq2Seq(**settings).fit(X, y)
    path = tmp_path / "old.safetensors"
    model.save(path)

    def as_format_1_2(document):
        document["format_version"] = "1.2"
        del document["config"]["resolved"]
        del document["config"]["params"]["input_feeding"]
        del document["config"]["params"]["precision"]

    _rewrite(path, as_format_1_2)
    loaded = AttentionSeq2Seq.load(path)
    assert loaded.input_feeding and loaded.precision == "float32"
    assert resolved(loaded) == {**SMALL, **FIXED}
    X_test = reversal_data[2][:50]
    assert list(loaded.predict(X_test)) == list(model.predict(X_test))


@pytest.mark.parametrize("value", ["auto", 0])
def test_a_file_with_an_unusable_resolved_value_is_refused(
    reversal_data, tmp_path, value
):
    X, y = reversal_data[0][:100], reversal_data[1][:100]
    path = tmp_path / "model.safetensors"
    AttentionSeq2Seq(**QUICK).fit(X, y).save(path)

    def spoil(document):
        document["config"]["resolved"]["hidden_size"] = value

    _rewrite(path, spoil)
    with pytest.raises(ValueError, match="hidden_size"):
        AttentionSeq2Seq.load(path)


def test_a_fit_that_raises_after_resolving_changes_nothing(reversal_data):
    X, y = reversal_data[0][:100], reversal_data[1][:100]
    model = AttentionSeq2Seq(**QUICK)
    before = dict(vars(model))
    with pytest.raises(ValueError, match="hidden_size must be even"):
        model.set_params(hidden_size=33).fit(X, y)
    assert vars(model) == {**before, "hidden_size": 33}
    assert np.all([not name.endswith("_") for name in vars(model)])
