"""k-nearest neighbours: never ask for more neighbours than a training fold has rows.

The space goes up to 100 neighbours; on small data a fold may hold fewer rows, and
KNeighbors* then fails at predict time. Like FLAML, cap the value at half the rows.
"""

from __future__ import annotations

from typing import Any

from automl.adapters import BuildContext

VIRTUAL_PARAMS: frozenset[str] = frozenset()


def build(estimator_class: type, params: dict[str, Any], context: BuildContext) -> Any:
    if "n_neighbors" in params:
        params = {**params, "n_neighbors": max(1, min(params["n_neighbors"], context.n_rows // 2))}
    return estimator_class(**params)
