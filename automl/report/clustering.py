"""The report of a clustering search: is there structure, what was found, how it was chosen.

Content (``kind = "clustering"`` in report.json): the verdict of the null reference, the
final clustering's sizes and scores, each algorithm's best trial, the score against the
number of clusters of every trial, the stability, labels given for evaluation (adjusted
Rand, NMI) and a 2-D PCA embedding of the reference space coloured by cluster. The report
reads the fitted estimator; the embedding is a projection of the data for the eye, not a
model (nothing of the search is fitted again).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
from optuna.trial import TrialState

from automl.cluster_scores import CLUSTER_METRICS, CLUSTER_SCORES
from automl.cluster_trial import clustering_reference
from automl.report.data_summary import jsonable
from automl.report.html import document, figure_html, table
from automl.report.markdown import md_table
from automl.report.plots import BEST, OTHER, Builder, algorithm_colours, render_figures
from automl.report.text import e, md, num

EMBEDDING_POINTS = 2000
SCORE_COLUMNS = ("n_clusters", "noise_share", *CLUSTER_METRICS)


def from_clusterer(model: Any, X: Any) -> dict[str, Any]:
    """The report content of a fitted :class:`automl.AutoMLClusterer` (X: its data)."""
    from automl.data import validate_data
    from automl.version import __version__

    frame, _, profile = validate_data(X, task="clustering", column_kinds=model.profile_.kinds)
    data = frame.to_numpy() if profile.from_array else frame
    trials = [
        t
        for t in model.study_.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
        if CLUSTER_SCORES in t.user_attrs
    ]
    labels = np.asarray(model.labels_)
    values, counts = np.unique(labels, return_counts=True)
    return jsonable(
        {
            "schema_version": 1,
            "kind": "clustering",
            "created": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
            "automl_version": __version__,
            "metric": model.metric_,
            "greater_is_better": CLUSTER_METRICS[model.metric_],
            "best": model.best_algorithm_,
            "best_params": model.best_params_,
            "best_score": model.best_score_,
            "n_rows": len(frame),
            "n_clusters": model.n_clusters_,
            "sizes": [
                {"cluster": int(v), "rows": int(c)}
                for v, c in sorted(zip(values, counts), key=lambda p: -p[1])
            ],
            "null": model.null_reference_,
            "external": model.external_scores_,
            "models": _best_per_algorithm(model),
            "trials": [
                {
                    "trial": t.number,
                    "algorithm": t.params["algorithm"],
                    **{k: t.user_attrs[CLUSTER_SCORES].get(k) for k in SCORE_COLUMNS},
                }
                for t in trials
            ],
            "embedding": _embedding(data, profile, labels, model.random_state),
            "timing": {"elapsed": model.fit_time_, "n_trials": model.n_trials_},
        }
    )


def _best_per_algorithm(model: Any) -> list[dict[str, Any]]:
    board = model.leaderboard_[model.leaderboard_["state"] == "complete"]
    best = board.drop_duplicates("algorithm")
    return [
        {
            "algorithm": r["algorithm"],
            "trial": int(r["trial"]),
            **{k: float(r[k]) for k in SCORE_COLUMNS if k in r.index},
            "params": r["params"],
        }
        for _, r in best.iterrows()
    ]


def _embedding(data: Any, profile: Any, labels: np.ndarray, seed: int | None) -> dict[str, Any]:
    from sklearn.decomposition import PCA

    reference = clustering_reference(data, profile, seed)
    rows = reference.sample
    if len(rows) > EMBEDDING_POINTS:
        rows = rows[:EMBEDDING_POINTS]
    points = reference.reference[rows]
    if points.shape[1] >= 2:
        pca = PCA(n_components=2, random_state=0).fit(reference.reference)
        xy = pca.transform(points)
        explained = [float(v) for v in pca.explained_variance_ratio_]
    else:
        xy = np.c_[points[:, 0], np.zeros(len(points))]
        explained = [1.0, 0.0]
    return {"x": xy[:, 0], "y": xy[:, 1], "label": labels[rows], "explained": explained}


# -- figures -----------------------------------------------------------------------------
def _embedding_figure(figure: Any, r: dict[str, Any]) -> bool:
    emb = r["embedding"]
    if not emb["x"]:
        return False
    ax = figure.subplots()
    labels = np.asarray(emb["label"])
    names = [str(v) for v in sorted(set(labels.tolist()))]
    colours = algorithm_colours(names)
    for value in sorted(set(labels.tolist())):
        mine = labels == value
        colour = OTHER if value == -1 else colours[str(value)]
        name = "noise" if value == -1 else f"cluster {value}"
        ax.scatter(
            np.asarray(emb["x"])[mine],
            np.asarray(emb["y"])[mine],
            s=8,
            color=colour,
            label=name,
            alpha=0.8,
        )
    ax.set_xlabel(f"PC 1 ({emb['explained'][0]:.0%} of the variance)")
    ax.set_ylabel(f"PC 2 ({emb['explained'][1]:.0%})")
    ax.set_title("The data in its first two principal components, by cluster", loc="left")
    if len(names) <= 20:
        ax.legend(fontsize=7, loc="center left", bbox_to_anchor=(1.0, 0.5))
    figure.set_size_inches(8.0, 5.0)
    return True


def _sizes_figure(figure: Any, r: dict[str, Any]) -> bool:
    sizes = r["sizes"]
    if not sizes:
        return False
    ax = figure.subplots()
    names = ["noise" if s["cluster"] == -1 else str(s["cluster"]) for s in sizes]
    ax.bar(range(len(sizes)), [s["rows"] for s in sizes], color=BEST)
    ax.set_xticks(range(len(sizes)), names)
    ax.set_xlabel("cluster")
    ax.set_ylabel("rows")
    ax.set_title("Cluster sizes", loc="left")
    figure.set_size_inches(8.0, 3.0)
    return True


def _by_k_figure(figure: Any, r: dict[str, Any]) -> bool:
    trials = [t for t in r["trials"] if t.get(r["metric"]) is not None]
    if not trials:
        return False
    metric = r["metric"]
    by_k, by_stability = figure.subplots(1, 2)
    colours = algorithm_colours(sorted({t["algorithm"] for t in trials}))
    for name, colour in colours.items():
        mine = [t for t in trials if t["algorithm"] == name]
        by_k.scatter(
            [t["n_clusters"] for t in mine],
            [t[metric] for t in mine],
            s=14,
            color=colour,
            label=name,
        )
        by_stability.scatter(
            [t["stability"] for t in mine],
            [t[metric] for t in mine],
            s=14,
            color=colour,
            label=name,
        )
    by_k.set_xlabel("clusters found")
    by_k.set_ylabel(metric)
    by_k.set_title(f"{metric} against the number of clusters, every trial", loc="left")
    by_stability.set_xlabel("stability (adjusted Rand with subsample fits)")
    by_stability.legend(fontsize=7, loc="center left", bbox_to_anchor=(1.0, 0.5))
    return True


FIGURES: list[tuple[str, Builder]] = [
    ("embedding", _embedding_figure),
    ("sizes", _sizes_figure),
    ("by_k", _by_k_figure),
]
CAPTIONS = {
    "embedding": "A projection for the eye: clusters that overlap here may be apart in the "
    "other directions.",
    "sizes": "Rows per cluster (noise: rows DBSCAN/HDBSCAN left out).",
    "by_k": "Each point is a completed trial; its stability is the agreement with fits on "
    "80% subsamples.",
}


# -- renderers ---------------------------------------------------------------------------
def _cluster_name(value: int) -> str:
    return "noise" if value == -1 else str(value)


def _title(r: dict[str, Any]) -> str:
    return f"Clustering: {r['best']}, {r['n_clusters']} clusters"


def _model_rows(r: dict[str, Any]) -> tuple[list[str], list[list[str]]]:
    header = ["algorithm", "trial", *SCORE_COLUMNS]
    rows = [
        [
            m["algorithm"],
            str(m["trial"]),
            *(
                str(int(m[k])) if k == "n_clusters" and m.get(k) is not None else num(m.get(k), 4)
                for k in SCORE_COLUMNS
            ),
        ]
        for m in r["models"]
    ]
    return header, rows


def _notes(r: dict[str, Any]) -> list[str]:
    direction = "higher" if r["greater_is_better"] else "lower"
    return [
        f"Objective: {r['metric']} ({direction} is better), computed in one reference space "
        "for every trial: the input imputed, one-hot encoded and standard-scaled, whatever "
        "scaler or PCA the trial searched.",
        "dbcv: density-based clustering validation (Moulavi et al. 2014), on a fixed sample "
        "of at most 1,500 rows; silhouette, Calinski-Harabasz and Davies-Bouldin on the "
        "clustered rows, weighted by their share of all rows (noise counts against them).",
        "Stability: adjusted Rand index between the clustering and fits of the same "
        "configuration on two fixed 80% subsamples, on the rows they share.",
        "Null reference: the best configuration's clusterer fitted on the data's sample and "
        "on uniform data in the same bounding box (Tibshirani et al. 2001).",
        "Clusters of fewer than 1% of the rows count as noise in every score (a few outlying "
        "rows split off would look perfectly separated); a clustering with fewer than two "
        "clusters left gets the worst value of every score.",
    ]


def to_markdown(r: dict[str, Any]) -> str:
    out = [f"# {md(_title(r))}", "", f"**{md(r['null']['verdict'])}**", ""]
    out += [
        f"- Best: {md(r['best'])}, {md(r['metric'])} {num(r['best_score'])}, "
        f"{r['n_clusters']} clusters over {r['n_rows']} rows.",
    ]
    if r.get("external"):
        ext = r["external"]
        out.append(
            f"- Against the labels given for evaluation (not used by the search): adjusted "
            f"Rand {num(ext['adjusted_rand'])}, NMI {num(ext['normalized_mutual_info'])}."
        )
    header, rows = _model_rows(r)
    out += ["", "## Algorithms (best trial of each)", "", md_table(header, rows), ""]
    out += [
        "## Cluster sizes",
        "",
        md_table(
            ["cluster", "rows"],
            [
                ["noise" if s["cluster"] == -1 else str(s["cluster"]), str(s["rows"])]
                for s in r["sizes"]
            ],
        ),
        "",
    ]
    out += [
        "## Method",
        "",
        *[f"- {md(n)}" for n in _notes(r)],
        "",
        "Figures are in report.html.",
        "",
    ]
    return "\n".join(out)


def to_html(r: dict[str, Any], deadline: float | None = None) -> str:
    figures = render_figures(r, deadline, FIGURES)
    header, rows = _model_rows(r)
    structure = "structure" if r["null"]["structure"] else "no-structure"
    external = ""
    if r.get("external"):
        ext = r["external"]
        external = (
            f"<p>Against the labels given for evaluation (not used by the search): adjusted "
            f"Rand {e(num(ext['adjusted_rand']))}, NMI {e(num(ext['normalized_mutual_info']))}."
            "</p>"
        )

    def figure(name: str) -> str:
        html = figure_html(figures, name)
        return html.replace(
            "<figcaption></figcaption>", f"<figcaption>{e(CAPTIONS[name])}</figcaption>"
        )

    sections = [
        f'<header><h1>{e(_title(r))}</h1><p class="note">{e(r["created"])}, automl '
        f"{e(r['automl_version'])}</p></header>",
        f'<section id="verdict" class="{structure}"><h2>Is there structure?</h2>'
        f"<p><b>{e(r['null']['verdict'])}</b></p>"
        f"<p>Best: {e(r['best'])}, {e(r['metric'])} {e(num(r['best_score']))}, "
        f"{r['n_clusters']} clusters over {r['n_rows']} rows.</p>{external}</section>",
        '<section id="clusters"><h2>The clusters</h2>'
        + figure("embedding")
        + figure("sizes")
        + "</section>",
        '<section id="algorithms"><h2>Algorithms (best trial of each)</h2>'
        + table(header, rows, "cluster-models", numeric=set(range(1, len(header))))
        + figure("by_k")
        + "</section>",
        '<section id="method"><h2>Method</h2><ul class="notes">'
        + "".join(f"<li>{e(n)}</li>" for n in _notes(r))
        + "</ul></section>",
    ]
    return document(_title(r), sections)
