"""Model files that cannot be abused.

``save``/``load`` write and read one safetensors file: tensors plus JSON.
Loading never unpickles, so a file that was swapped for a pickle cannot run
code; a missing, truncated, corrupted or foreign file, or one of another
major format version, is refused with a clear error; a model saved for a
GPU loads on a machine without one.
"""

import io
import json
import pickle

import joblib
import numpy as np
import pytest
import torch
from safetensors.torch import safe_open, save_file

import sk_attention
from sk_attention import (
    AttentionPooling,
    AttentionPoolingClassifier,
    AttentionPoolingRegressor,
    AttentionSeq2Seq,
)
from sk_attention._persistence import FORMAT_VERSION, model_digest

TEXT_X = ["abc", "bca", "cab", "acb"]
_rng = np.random.RandomState(0)
SEQUENCES = _rng.normal(size=(16, 4, 3))
LABELS = np.arange(16) % 2


def _seq2seq():
    model = AttentionSeq2Seq(
        embedding_dim=8, hidden_size=8, max_epochs=1, validation_fraction=None,
        early_stopping=False, random_state=0,
    )
    return model.fit(TEXT_X, [x[::-1] for x in TEXT_X]), TEXT_X


def _pooling(Estimator, y=LABELS):
    def make():
        model = Estimator(hidden_layer_sizes=(4,), max_epochs=1, random_state=0)
        return model.fit(SEQUENCES, y), SEQUENCES

    return make


MAKERS = {
    "AttentionSeq2Seq": _seq2seq,
    "AttentionPooling": _pooling(AttentionPooling),
    "AttentionPoolingClassifier": _pooling(AttentionPoolingClassifier),
    "AttentionPoolingRegressor": _pooling(AttentionPoolingRegressor, LABELS * 1.5),
}


@pytest.fixture(scope="module", params=sorted(MAKERS))
def fitted(request):
    """A small fitted model of each class and inputs to predict on."""
    return MAKERS[request.param]()


@pytest.fixture
def saved(fitted, tmp_path):
    model, _ = fitted
    path = tmp_path / "model.safetensors"
    model.save(path)
    return path


def outputs(model, X):
    if isinstance(model, AttentionSeq2Seq):
        return [model.predict(X), *model.attention_weights(X)]
    if isinstance(model, AttentionPooling):
        return [model.transform(X), *model.attention_weights(X)]
    return [model.predict(X), *model.attention_weights(X)]


def assert_same_outputs(first, second, X):
    for a, b in zip(outputs(first, X), outputs(second, X), strict=True):
        np.testing.assert_array_equal(a, b)


def read(path):
    with safe_open(str(path), framework="pt", device="cpu") as handle:
        document = json.loads(handle.metadata()["sk_attention"])
        tensors = {name: handle.get_tensor(name) for name in handle.keys()}
    return document, tensors


def write(path, document, tensors, *, reseal=True):
    """Write a model file; ``reseal`` recomputes the checksum after edits."""
    if reseal:
        document = {
            **document, "sha256": model_digest(document["config"], tensors)
        }
    save_file(tensors, str(path), metadata={"sk_attention": json.dumps(document)})


class Payload:
    """Unpickling this creates ``marker``: the side effect that must not happen."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (open, (self.marker, "w"))


def test_round_trip_gives_identical_outputs(fitted, saved):
    model, X = fitted
    assert_same_outputs(type(model).load(saved), model, X)


def test_files_carry_format_and_library_versions(fitted, saved):
    document, _ = read(saved)
    assert document["format_version"] == FORMAT_VERSION
    assert document["library_version"] == sk_attention.__version__
    assert document["estimator"] == type(fitted[0]).__name__


def test_load_never_unpickles(fitted, saved, monkeypatch):
    def forbidden(*args, **kwargs):
        raise AssertionError("load must not unpickle")

    for name in ("load", "loads", "Unpickler"):
        monkeypatch.setattr(pickle, name, forbidden)
    monkeypatch.setattr(torch, "load", forbidden)
    model, X = fitted
    assert_same_outputs(type(model).load(saved), model, X)


UNPICKLERS = {
    "pickle": lambda path: pickle.loads(path.read_bytes()),
    "torch.save": lambda path: torch.load(
        io.BytesIO(path.read_bytes()), weights_only=False
    ),
    "joblib": joblib.load,
}


@pytest.mark.parametrize("writer", sorted(UNPICKLERS))
def test_a_planted_pickle_is_refused_and_its_code_never_runs(
    fitted, tmp_path, writer
):
    marker = tmp_path / "payload-ran"
    path = tmp_path / "model.safetensors"
    payload = {"state_dict": Payload(marker)}
    if writer == "pickle":
        path.write_bytes(pickle.dumps(payload))
    elif writer == "torch.save":
        torch.save(payload, path)
    else:
        joblib.dump(payload, path)
    assert not marker.exists()
    with pytest.raises(ValueError, match="not a readable sk_attention model file"):
        type(fitted[0]).load(path)
    assert not marker.exists()
    # The payload is live: unpickling the same file creates the marker.
    UNPICKLERS[writer](path)
    assert marker.exists()


def test_a_pickle_appended_to_a_valid_file_is_refused(fitted, saved, tmp_path):
    marker = tmp_path / "payload-ran"
    saved.write_bytes(saved.read_bytes() + pickle.dumps(Payload(marker)))
    with pytest.raises(ValueError, match="truncated, corrupted"):
        type(fitted[0]).load(saved)
    assert not marker.exists()


def test_missing_file(fitted, tmp_path):
    with pytest.raises(FileNotFoundError, match="No model file"):
        type(fitted[0]).load(tmp_path / "absent.safetensors")
    with pytest.raises(FileNotFoundError, match="No model file"):
        type(fitted[0]).load(tmp_path)  # a directory


@pytest.mark.parametrize("keep", [0, 7, 0.5, -1])
def test_truncated_file(fitted, saved, keep):
    data = saved.read_bytes()
    end = int(len(data) * keep) if isinstance(keep, float) else keep
    saved.write_bytes(data[:end])
    with pytest.raises(ValueError, match="truncated, corrupted"):
        type(fitted[0]).load(saved)


def test_corrupted_tensor_bytes(fitted, saved):
    data = bytearray(saved.read_bytes())
    data[-5] ^= 0xFF  # inside the last tensor: the header still parses
    saved.write_bytes(bytes(data))
    with pytest.raises(ValueError, match="is corrupted"):
        type(fitted[0]).load(saved)


def test_corrupted_metadata(fitted, saved, tmp_path):
    document, tensors = read(saved)
    document["config"]["params"]["max_epochs"] = 7  # without a new checksum
    write(saved, document, tensors, reseal=False)
    with pytest.raises(ValueError, match="is corrupted"):
        type(fitted[0]).load(saved)
    save_file(tensors, str(saved), metadata={"sk_attention": "{not json"})
    with pytest.raises(ValueError, match="unreadable model metadata"):
        type(fitted[0]).load(saved)
    save_file(tensors, str(saved))
    with pytest.raises(ValueError, match="not an sk_attention model"):
        type(fitted[0]).load(saved)


def test_another_major_format_is_refused_a_newer_minor_loads(fitted, saved):
    model, X = fitted
    document, tensors = read(saved)
    major = int(FORMAT_VERSION.split(".")[0])
    write(saved, {**document, "format_version": f"{major}.99",
                  "library_version": "99.0"}, tensors)
    assert_same_outputs(type(model).load(saved), model, X)
    write(saved, {**document, "format_version": f"{major + 1}.0"}, tensors)
    with pytest.raises(ValueError, match=f"format version '{major + 1}.0'"):
        type(model).load(saved)


def test_a_file_of_another_estimator_names_the_right_class(fitted, saved):
    model, _ = fitted
    other = AttentionPoolingRegressor if isinstance(model, AttentionSeq2Seq) else (
        AttentionSeq2Seq
    )
    with pytest.raises(ValueError, match=f"holds a {type(model).__name__}"):
        other.load(saved)


def test_tensors_that_do_not_fit_the_configuration(fitted, saved):
    document, tensors = read(saved)
    name = sorted(tensors)[0]
    tensors[name] = torch.zeros(tensors[name].numel() + 1)
    write(saved, document, tensors)
    with pytest.raises(ValueError, match="do not fit"):
        type(fitted[0]).load(saved)


@pytest.mark.parametrize(
    "setting", [{"attention": "no-such-rule"}, {"optimizer": "os.system"}]
)
def test_a_resealed_file_with_invalid_settings_is_refused(fitted, saved, setting):
    """Settings in a file are validated like constructor arguments."""
    document, tensors = read(saved)
    document["config"]["params"].update(setting)
    write(saved, document, tensors)
    with pytest.raises(ValueError, match=next(iter(setting))):
        type(fitted[0]).load(saved)


@pytest.mark.parametrize("device", ["cuda", "cuda:0"])
def test_a_model_saved_for_a_gpu_loads_on_a_cpu_only_machine(
    fitted, saved, monkeypatch, device
):
    model, X = fitted
    document, tensors = read(saved)
    document["config"]["params"]["device"] = device
    write(saved, document, tensors)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.warns(UserWarning, match="CUDA is not available"):
        restored = type(model).load(saved)
    assert restored.device == "cpu"
    assert_same_outputs(restored, model, X)


def test_saving_over_a_file_is_atomic(fitted, saved, monkeypatch):
    """An interrupted save leaves the previous file whole and no debris."""
    import sk_attention._persistence as persistence

    model, X = fitted
    good = saved.read_bytes()

    def interrupted(tensors, filename, metadata):
        with open(filename, "wb") as handle:
            handle.write(b"partial")
        raise KeyboardInterrupt

    monkeypatch.setattr(persistence, "save_file", interrupted)
    with pytest.raises(KeyboardInterrupt):
        model.save(saved)
    assert saved.read_bytes() == good
    assert list(saved.parent.iterdir()) == [saved]
