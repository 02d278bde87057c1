"""Sphinx configuration of the sk_attention documentation.

Build: ``pip install -e ".[docs]" && python -m sphinx -b html -W docs
docs/_build/html``. Add ``-D plot_gallery=0`` to render the gallery
without running the examples (the tests run every example as a script).
"""

import os
import sys

import sk_attention

# The gallery's sort key lives next to this file.
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

project = "sk_attention"
author = "The sk_attention developers"
copyright = "2026, The sk_attention developers"
release = sk_attention.__version__
version = release

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "matplotlib.sphinxext.plot_directive",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
]

templates_path = ["_templates"]
exclude_patterns = ["_build", "Thumbs.db", ".DS_Store"]
default_role = "literal"
# "fit()", not "AttentionSeq2Seq.fit()", in the page tables of contents.
toc_object_entries_show_parents = "hide"

# -- API reference -----------------------------------------------------------
autosummary_generate = True
autodoc_default_options = {"members": True, "inherited-members": True}
autodoc_typehints = "none"  # the numpydoc Parameters section says it all
# Methods are documented by autodoc on the class page; numpydoc's own member
# tables would list every one of them twice.
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_xref_param_type = False

# Pictures drawn at build time by ``.. plot::`` (no training in them).
plot_include_source = False
plot_html_show_source_link = False
plot_html_show_formats = False
plot_formats = [("png", 110)]

# -- Gallery -----------------------------------------------------------------
sphinx_gallery_conf = {
    "examples_dirs": "../examples",
    "gallery_dirs": "auto_examples",
    # quickstart.py is part of the gallery too, and run like the plot_ files.
    "filename_pattern": r"/(plot_|quickstart)",
    "within_subsection_order": "_gallery_order.GalleryOrder",
    "backreferences_dir": "gen_modules/backreferences",
    "doc_module": ("sk_attention",),
    "remove_config_comments": True,
    "matplotlib_animations": False,
    "show_memory": False,
    "download_all_examples": False,
    # Each example page shows its own running time; no summary page in docs/.
    "write_computation_times": False,
}

# -- HTML --------------------------------------------------------------------
html_theme = "pydata_sphinx_theme"
html_title = f"sk_attention {release}"
html_static_path = ["_static"]
html_theme_options = {
    "navbar_align": "left",
    "show_toc_level": 2,
    "secondary_sidebar_items": ["page-toc"],
}
# Pages without a section of their own get no (empty) section navigation.
html_sidebars = {
    page: [] for page in ("index", "getting_started", "faq", "benchmarks", "scaling")
}


# Libraries whose inherited methods are documented on their own sites.
_UPSTREAM_MODULES = ("sklearn.", "distributed.")


def _skip_upstream_members(app, what, name, obj, skip, options):
    """Leave methods inherited from scikit-learn or dask to their own docs.

    ``get_params``, ``set_output``, ``score`` of the mixins, the hooks of
    dask's ``WorkerPlugin`` and the rest are documented there, and their
    docstrings link to labels of those projects' sites, which do not exist
    here.
    """
    module = getattr(obj, "__module__", None) or ""
    if what == "class" and module.startswith(_UPSTREAM_MODULES):
        return True
    return None


def setup(app):
    app.connect("autodoc-skip-member", _skip_upstream_members)
