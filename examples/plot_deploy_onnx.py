"""
Serving a model without torch: ONNX
====================================

:func:`sk_attention.onnx.export` writes a fitted estimator as ONNX graphs
with its vocabularies and settings in their metadata;
:func:`sk_attention.onnx.load` runs them with onnxruntime and numpy alone,
with the estimator's prediction methods. The server needs neither torch nor
skorch: ``pip install --no-deps sk-attention`` next to numpy, rapidfuzz and
onnxruntime is enough (``pip install 'sk-attention[onnx]'`` installs the
exporter's packages too). This example exports a sequence-to-sequence
model and checks that the served model writes the same strings, greedy and
with a beam.
"""

# %%
# Train a small model that reverses strings.
import os
import tempfile

from sk_attention import AttentionSeq2Seq
from sk_attention.datasets import make_reversal
from sk_attention.onnx import export, load

X, y = make_reversal(1200, min_length=3, max_length=6, random_state=0)
model = AttentionSeq2Seq(
    embedding_dim=16,
    hidden_size=32,
    max_epochs=15,
    batch_size=32,
    lr=0.01,
    validation_fraction=None,
    early_stopping=False,
    random_state=0,
).fit(X[:1000], y[:1000])

# %%
# Export: an encoder graph and a one-step decoder graph. Batch and lengths
# stay dynamic; the vocabularies, tokenizers and decoding settings travel
# in the graphs' metadata.
folder = export(model, tempfile.mkdtemp())
for name in sorted(os.listdir(folder)):
    print(f"{name}: {os.path.getsize(folder / name) / 1024:.0f} KiB")

# %%
# Load and predict. The runtime imports no torch; its searches are numpy
# versions of the estimator's, step for step.
served = load(folder)
X_test = X[1000:]
print(served.predict(["abc", "hgfe"]))
same = (served.predict(X_test) == model.predict(X_test)).all()
print(f"same greedy outputs on {len(X_test)} held-out strings: {same}")

served.beam_size = model.beam_size = 4
same = (served.predict(X_test) == model.predict(X_test)).all()
print(f"same beam-search outputs: {same}")
print(f"exact match of the served model: {served.score(X_test, y[1000:]):.3f}")

# %%
# Weights in int8: onnxruntime's dynamic quantizer makes the files smaller;
# the outputs may change a little, so measure before serving them.
small = export(model, tempfile.mkdtemp(), quantize=True)
size = sum(os.path.getsize(small / name) for name in os.listdir(small))
print(f"int8 export: {size / 1024:.0f} KiB")
quantized = load(small)
print(f"exact match after quantization: {quantized.score(X_test, y[1000:]):.3f}")
