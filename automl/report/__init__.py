"""The comparison report of a fit or a baseline: it reads, it does not search.

:class:`Report` and :func:`write_report`: the comparison report (data summary, leaderboard,
paired comparison, nested CV, search history, diagnostics) as ``report.json`` (everything
needed to render, versioned), ``report.html`` (self-contained: no network, no script) and
``report.md``. ``automl report RUN_DIR`` renders the last two again from the first.

- :mod:`~automl.report.content`: the report's content (a JSON-ready dict) from a source;
- :mod:`~automl.report.data_summary`: the section computed from the data (the paired
  comparison's test is :mod:`automl.comparison`, which refinement uses too);
- :mod:`~automl.report.text`: what both renderers share (escaping, numbers, headlines);
- :mod:`~automl.report.markdown`, :mod:`~automl.report.html` (with
  :mod:`~automl.report.plots`): one renderer per format.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

REPORT_FILES = {"json": "report.json", "html": "report.html", "markdown": "report.md"}
# What writing the report costs, measured on this project's 2-core machines: rendering its
# figures about 1 s, the data summary growing with the table.
RENDER_SECONDS = 1.0
SECONDS_PER_CELL = 2e-7


def expected_write_seconds(n_cells: int) -> float:
    """Seconds :func:`write_report` is expected to take for a table of ``n_cells`` cells
    (what a caller with a time budget keeps free for it)."""
    return RENDER_SECONDS + n_cells * SECONDS_PER_CELL


def figures_deadline(started: float, time_budget: float) -> float:
    """The ``deadline`` a job with a time budget passes to :func:`write_report`: the budget
    with its 5% tolerance (a job ends within ``time_budget`` × 1.05 + 1 s), so a search that
    ends a little late still gets every figure, and the last one drawn fits in the second."""
    return started + 1.05 * time_budget


class Report:
    """A comparison report: build it from a fit or a baseline, render it, save it.

    Parameters
    ----------
    content : dict
        The JSON-ready content (what ``report.json`` holds); build it with
        :meth:`from_source` or read it with :meth:`load`.

    Examples
    --------
    >>> import automl
    >>> from automl.report import Report
    >>> from sklearn.datasets import load_diabetes
    >>> X, y = load_diabetes(return_X_y=True, as_frame=True)
    >>> report = Report.from_source(automl.baseline(X, y, cv=3, algorithms=["ridge"]), X, y)
    >>> report.to_markdown().splitlines()[0]
    '# Baseline: default configurations compared'
    """

    def __init__(self, content: dict[str, Any]) -> None:
        self.content = content

    @classmethod
    def from_source(cls, source: Any, X: Any, y: Any) -> Report:
        """The report of a fitted AutoMLClassifier/AutoMLRegressor or a baseline result.

        ``X`` and ``y`` are the data the source was fit on (for the data summary). The
        report reads what the source measured (scores, out-of-fold predictions, sizes,
        predict times); it fits nothing.
        """
        from automl.baselines import BaselineResult
        from automl.exceptions import InvalidParameterError
        from automl.report.content import from_baseline, from_estimator

        if isinstance(source, BaselineResult):
            return cls(from_baseline(source, X, y))
        if hasattr(source, "null_reference_"):  # a fitted AutoMLClusterer
            from automl.report.clustering import from_clusterer

            return cls(from_clusterer(source, X))
        if hasattr(source, "best_pipeline_") and hasattr(source, "study_"):
            return cls(from_estimator(source, X, y))
        raise InvalidParameterError(
            f"A report is made from a fitted AutoMLClassifier/AutoMLRegressor or the result of "
            f"automl.baseline(); got {type(source).__name__}. Fit the estimator first."
        )

    @classmethod
    def load(cls, path: str | Path) -> Report:
        """Read ``report.json`` (or the folder holding it)."""
        from automl.exceptions import DataValidationError
        from automl.report.content import SCHEMA_VERSION

        path = Path(path)
        if path.is_dir():
            path = path / REPORT_FILES["json"]
        if not path.is_file():
            raise FileNotFoundError(
                f"{path}: no such file. A run folder holds report.json "
                "when it was written by write_report, 'automl fit --out' "
                "or 'automl baseline --out'."
            )
        try:
            content = json.loads(path.read_text(encoding="utf-8"))
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise DataValidationError(f"{path}: not a valid report.json ({exc}).") from None
        version = content.get("schema_version") if isinstance(content, dict) else None
        if version != SCHEMA_VERSION:
            raise DataValidationError(
                f"{path}: report schema_version {version!r}, but this automl reads version "
                f"{SCHEMA_VERSION}. Re-create the report with this version of automl."
            )
        return cls(content)

    def to_dict(self) -> dict[str, Any]:
        """The content as plain JSON values (a copy)."""
        return json.loads(self.to_json())

    def to_json(self) -> str:
        return json.dumps(self.content, indent=1, allow_nan=False, ensure_ascii=False)

    def to_markdown(self) -> str:
        if self.content.get("kind") == "clustering":
            from automl.report import clustering

            return clustering.to_markdown(self.content)
        from automl.report.markdown import to_markdown

        return to_markdown(self.content)

    def to_html(self, deadline: float | None = None) -> str:
        """The HTML page; figures whose turn comes after ``deadline`` (on
        ``time.monotonic()``) are left out with a note (``automl report`` draws them)."""
        if self.content.get("kind") == "clustering":
            from automl.report import clustering

            return clustering.to_html(self.content, deadline)
        from automl.report.html import to_html

        return to_html(self.content, deadline)

    def save(
        self,
        out_dir: str | Path,
        *,
        formats: tuple[str, ...] = ("json", "html", "markdown"),
        deadline: float | None = None,
    ) -> dict[str, Path]:
        """Write ``report.json``, ``report.html`` and ``report.md`` into ``out_dir``
        (``deadline``: see :meth:`to_html`; the JSON always holds everything)."""
        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        render = {
            "json": self.to_json,
            "html": lambda: self.to_html(deadline),
            "markdown": self.to_markdown,
        }
        paths = {}
        for name in formats:
            path = out / REPORT_FILES[name]
            path.write_text(render[name](), encoding="utf-8")
            paths[name] = path
        return paths


def write_report(
    source: Any, X: Any, y: Any, out_dir: str | Path, *, deadline: float | None = None
) -> dict[str, Path]:
    """Write the comparison report of a fit or a baseline into ``out_dir``.

    Parameters
    ----------
    source : AutoMLClassifier, AutoMLRegressor or BaselineResult
        A fitted estimator or the result of :func:`automl.baseline`.
    X, y : the data ``source`` was fit on.
    out_dir : path
        Created if needed; ``report.json``, ``report.html`` and ``report.md`` are written.
    deadline : float, optional
        A ``time.monotonic()`` time for a caller with a time budget: figures whose turn comes
        after it are not drawn (drawing is most of the cost); ``report.html`` says which, and
        ``automl report OUT_DIR`` draws them from ``report.json``, which holds everything.

    Returns
    -------
    dict
        ``{"json": Path, "html": Path, "markdown": Path}``.
    """
    return Report.from_source(source, X, y).save(out_dir, deadline=deadline)


def render_saved_report(run_dir: str | Path) -> dict[str, Path]:
    """Render ``report.html`` and ``report.md`` again from ``run_dir/report.json``."""
    return Report.load(run_dir).save(
        Path(run_dir) if Path(run_dir).is_dir() else Path(run_dir).parent,
        formats=("html", "markdown"),
    )
