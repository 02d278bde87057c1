"""Draw the CMUdict learning curves saved by ``bench_g2p.py --save``.

Greedy word error on the curves' 2,000 test words against the CPU-minutes
of training, one line per model, with Phonetisaurus as a point at its
training time and a dashed line at its word error, so that the race reads at
a glance. Each curve is labelled by the ``--label`` given for its file (the
order of the files), or by the model's own label::

    python benchmarks/plot_g2p_curves.py results/g2p_*.json \\
        --label "input feeding" "parallel decoder" --output docs/_static/g2p.png
"""

import argparse
import json
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("results", nargs="+", help="JSON files of bench_g2p.py")
    parser.add_argument("--label", nargs="*", default=[], help="one per file")
    parser.add_argument("--output", default="g2p_learning_curves.png")
    args = parser.parse_args()

    figure, axes = plt.subplots(figsize=(7, 4.2), layout="constrained")
    reference = None
    for index, path in enumerate(args.results):
        document = json.loads(Path(path).read_text())
        for curve in document["curves"]:
            points = curve["points"]
            minutes = [point["cpu_minutes"] for point in points]
            wer = [point["greedy_wer"] for point in points]
            if curve["label"] == "Phonetisaurus":
                reference = minutes[0], wer[0]
                continue
            label = args.label[index] if index < len(args.label) else curve["label"]
            axes.plot(minutes, wer, marker="o", markersize=3, label=label)
    if reference is not None:
        minutes, wer = reference
        axes.axhline(wer, color="black", linestyle="--", linewidth=1)
        axes.plot([minutes], [wer], marker="*", markersize=12, color="black",
                  linestyle="none", label=f"Phonetisaurus ({minutes:.1f} CPU-min)")
    axes.set_xlabel("CPU-minutes of training (one thread)")
    axes.set_ylabel("greedy WER % (2,000 test words)")
    axes.set_ylim(top=min(axes.get_ylim()[1], 45))
    axes.grid(alpha=0.3)
    axes.legend()
    figure.savefig(args.output, dpi=120)
    print(f"wrote {args.output}")


if __name__ == "__main__":
    main()
