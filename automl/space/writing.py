"""Write an :class:`AlgorithmSpec` back out as an ordinary space file (TOML).

The file holds everything the spec holds, so that loading it gives the same spec (the
refined spaces of :mod:`automl.refinement` are written this way, for a person to read and
edit before the next round). TOML has no comments in its data model: a ``header`` is
written as ``#`` lines above the tables.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import tomli_w

from automl.space.loading import BUILTIN_ADAPTERS
from automl.space.schema import SCHEMA_VERSION, TASK_FAMILIES, AlgorithmSpec, ParamSpec


def space_document(spec: AlgorithmSpec) -> dict[str, Any]:
    """The TOML tables of ``spec``, keys in the order a space file is usually written."""
    doc: dict[str, Any] = {"schema_version": SCHEMA_VERSION}
    if spec.description:
        doc["description"] = spec.description
    doc["estimator"] = dict(spec.estimators)
    if spec.adapter:
        builtin = f"{BUILTIN_ADAPTERS}."
        module, _, function = spec.adapter.partition(":")
        short = module.startswith(builtin) and function == "build"
        doc["adapter"] = module[len(builtin) :] if short else spec.adapter
    if spec.requires:
        doc["requires"] = list(spec.requires)
    if spec.install:
        doc["install"] = spec.install
    doc["preprocessing"] = spec.preprocessing
    if spec.preprocessing == "native":
        doc["categorical_codes"] = spec.categorical_codes
    doc["cost"] = spec.cost
    if spec.max_rows is not None:
        doc["max_rows"] = spec.max_rows
    if spec.trusted_types:
        doc["trusted_types"] = list(spec.trusted_types)
    for key, table in (("fixed", spec.fixed), ("smoke", spec.smoke), ("balanced", spec.balanced)):
        if table:
            doc[key] = dict(table)
    if spec.early_stopping is not None:
        doc["early_stopping"] = {
            "rounds": spec.early_stopping.rounds,
            "patience": spec.early_stopping.patience,
        }
    doc["params"] = {p.name: _param_table(p) for p in spec.params}
    return doc


def _param_table(p: ParamSpec) -> dict[str, Any]:
    table: dict[str, Any] = {"type": p.type}
    if p.type == "categorical":
        table["choices"] = list(p.choices)
    else:
        table["low"], table["high"] = p.bounds
        if p.log:
            table["log"] = True
    table["default"] = p.default
    if p.start is not None:
        table["start"] = p.start
    if p.levels:
        table["levels"] = list(p.levels)
    if p.when:
        table["when"] = {parent: list(values) for parent, values in p.when.items()}
    if tuple(p.tasks) != TASK_FAMILIES:
        table["tasks"] = list(p.tasks)
    if p.drives:
        table["drives"] = list(p.drives)
    table["why"] = p.why
    return table


def space_text(spec: AlgorithmSpec, header: str = "") -> str:
    """The text of a space file for ``spec``, with ``header`` as comment lines on top."""
    comments = "".join(f"# {line}".rstrip() + "\n" for line in header.splitlines())
    return comments + tomli_w.dumps(space_document(spec), multiline_strings=False)


def write_space(spec: AlgorithmSpec, path: str | Path, header: str = "") -> Path:
    """Write ``spec`` to ``path`` as a space file; :func:`automl.check_space` loads it back."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(space_text(spec, header), encoding="utf-8")
    return path
