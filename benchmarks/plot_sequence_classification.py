"""Draw accuracy against fit time per set from saved benchmark results.

Reads the JSON files that ``bench_sequence_classification.py --save``
writes (a set in a later file replaces it in an earlier one) and draws one
panel per set: test accuracy against fit CPU-seconds (log scale)
for each model, MiniRocket and the FCN twin beside the encoders.

Run::

    python benchmarks/plot_sequence_classification.py \\
        benchmarks/results/sequence_classification.json \\
        --picture docs/_static/sequence_classification.png
"""

import argparse
import json
import math

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

MARKERS = "osD^vP*Xh"


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("results", nargs="+")
    parser.add_argument("--picture", required=True)
    args = parser.parse_args()
    sets = {}
    for path in args.results:
        with open(path) as file:
            sets.update(json.load(file)["sets"])
    names = list(next(iter(sets.values()))["models"])
    columns = 4
    rows = math.ceil(len(sets) / columns)
    figure, axes = plt.subplots(rows, columns, figsize=(3.2 * columns, 2.8 * rows),
                                squeeze=False)
    for axis, (name, result) in zip(axes.flat, sets.items()):
        for index, model in enumerate(names):
            row = result["models"].get(model)
            if row is None:
                continue
            axis.scatter(max(row["fit_cpu_s"], 1e-3), row["accuracy"],
                         marker=MARKERS[index % len(MARKERS)], label=model)
        axis.set_xscale("log")
        axis.set_title(f"{name} ({result['n_train']} train)", fontsize=9)
        axis.set_xlabel("fit CPU-seconds", fontsize=8)
        axis.set_ylabel("test accuracy", fontsize=8)
        axis.tick_params(labelsize=7)
        axis.grid(alpha=0.3)
    for axis in list(axes.flat)[len(sets):]:
        axis.axis("off")
    handles, labels = axes.flat[0].get_legend_handles_labels()
    figure.legend(handles, labels, loc="lower center", ncol=min(len(labels), 4),
                  fontsize=8)
    figure.tight_layout(rect=(0, 0.08, 1, 1))
    figure.savefig(args.picture, dpi=110)


if __name__ == "__main__":
    main()
