"""
Saving and loading models
=========================

Every estimator has ``save(path)`` and ``load(path)``: one safetensors file
holding the network's tensors and a JSON header with the hyper-parameters
and fitted state (vocabularies, classes). Loading never unpickles anything,
so a model file from elsewhere cannot run code on your machine, and a model
trained on a GPU loads on a CPU-only machine. Pickle and joblib work too,
for files you trust.
"""

# %%
# Train a small sequence-to-sequence model and save it.
import json
import os
import pickle
import tempfile

import numpy as np

from sk_attention import AttentionPoolingClassifier, AttentionSeq2Seq
from sk_attention.datasets import make_reversal

X, y = make_reversal(1000, min_length=3, max_length=6, random_state=0)
model = AttentionSeq2Seq(
    embedding_dim=16,
    hidden_size=32,
    max_epochs=15,
    batch_size=32,
    lr=0.01,
    validation_fraction=None,
    early_stopping=False,
    random_state=0,
).fit(X, y)

folder = tempfile.mkdtemp()
path = os.path.join(folder, "reverse.safetensors")
model.save(path)
print(f"{os.path.basename(path)}: {os.path.getsize(path) / 1024:.0f} KiB")

# %%
# The header is plain JSON, readable without the library: the first 8 bytes
# of a safetensors file give its length. It names the estimator and holds
# the hyper-parameters, the vocabularies and a digest of the tensors.
with open(path, "rb") as file:
    header = json.loads(file.read(int.from_bytes(file.read(8), "little")))
document = json.loads(header["__metadata__"]["sk_attention"])
print(document["estimator"], "format", document["format_version"])
print("hidden_size:", document["config"]["params"]["hidden_size"])
print("target vocabulary:", document["config"]["target_vocab"])

# %%
# Load it back: same predictions. Hyper-parameters can be changed on load,
# here decoding with a beam of 3 on the CPU.
loaded = AttentionSeq2Seq.load(path, beam_size=3, device="cpu")
words = ["abc", "hgfed", "jjabe"]
print(model.predict(words), loaded.predict(words))
print(
    "same greedy predictions on all 1000 strings:",
    (model.predict(X) == AttentionSeq2Seq.load(path).predict(X)).all(),
)

# %%
# The pooling estimators work the same way; the classes come back too.
rng = np.random.RandomState(0)
bags = [rng.normal(size=(n, 3)) for n in rng.randint(3, 10, size=100)]
labels = np.array(["yes" if b[:, 0].max() > 1.5 else "no" for b in bags])
clf = AttentionPoolingClassifier(max_epochs=10, random_state=0).fit(bags, labels)
clf.save(os.path.join(folder, "bags.safetensors"))
same = AttentionPoolingClassifier.load(os.path.join(folder, "bags.safetensors"))
print(same.classes_, np.allclose(clf.predict_proba(bags), same.predict_proba(bags)))

# %%
# Pickle keeps everything, the skorch net and its history included, but
# unpickling runs code from the file: use it only for files you made.
restored = pickle.loads(pickle.dumps(model))
print(
    len(restored.history_),
    "epochs of history;",
    (restored.predict(words) == model.predict(words)).all(),
)
