"""Order of the gallery: from a first model to the details."""

ORDER = [
    "quickstart.py",
    "plot_transliteration.py",
    "plot_g2p_cmudict.py",
    "plot_beam_search.py",
    "plot_nbest_confidence.py",
    "plot_grid_search_attention.py",
    "plot_pooling_pipeline.py",
    "plot_mil_digits_bags.py",
    "plot_time_series_classification.py",
    "plot_text_classification.py",
    "plot_word_vectors.py",
    "plot_save_load.py",
    "plot_deploy_onnx.py",
]


class GalleryOrder:
    """Sort key for sphinx-gallery's ``within_subsection_order``.

    The examples in :data:`ORDER` come first, in that order; any other
    example follows, by file name.

    Parameters
    ----------
    src_dir : str
        The gallery's source folder (given by sphinx-gallery, unused).
    """

    def __init__(self, src_dir):
        self.src_dir = src_dir

    def __call__(self, filename):
        if filename in ORDER:
            return (ORDER.index(filename), filename)
        return (len(ORDER), filename)

    def __repr__(self):
        return f"{type(self).__name__}()"
