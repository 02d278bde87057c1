"""Export to ONNX and the torch-free runtime of :mod:`sk_attention.onnx`."""
