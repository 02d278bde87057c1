"""sk_attention: the attention mechanism as scikit-learn estimators.

The public names are imported on first use, so that a torch-free module
such as :mod:`sk_attention.onnx` imports without torch.
"""

from importlib import import_module

__version__ = "0.1.0"

# Public name -> the module that defines it.
_PUBLIC = {
    "AttentionPooling": "._pooling",
    "AttentionPoolingClassifier": "._pooling",
    "AttentionPoolingRegressor": "._pooling",
    "AttentionSeq2Seq": "._seq2seq",
    "plot_attention": ".plotting",
}

__all__ = [*_PUBLIC, "__version__"]


def __getattr__(name):
    if name not in _PUBLIC:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(_PUBLIC[name], __name__), name)
    globals()[name] = value  # later look-ups skip this function
    return value


def __dir__():
    return sorted({*globals(), *__all__})
