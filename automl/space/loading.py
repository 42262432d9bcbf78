"""Read a search space file (TOML) into an :class:`AlgorithmSpec`, checking the schema.

Every problem is reported as ``file: [table] key: problem. Fix.`` so that a user who
writes a space file knows where to look and what to write instead.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

from automl.exceptions import SearchSpaceError
from automl.space.schema import (
    CATEGORICAL_CODES,
    COST_OBJECTIVES,
    PARAM_TYPES,
    PREPROCESSING_KINDS,
    SCHEMA_VERSION,
    SUPPORTED_SCHEMA_VERSIONS,
    TASK_FAMILIES,
    AlgorithmSpec,
    EarlyStopping,
    ParamSpec,
)

TOP_LEVEL_KEYS = {
    "schema_version",
    "description",
    "estimator",
    "preprocessing",
    "cost",
    "max_rows",
    "requires",
    "adapter",
    "fixed",
    "smoke",
    "params",
}
# Keys that schema version 2 added: what a plugin algorithm declares about itself.
VERSION_2_KEYS = {"trusted_types", "install", "categorical_codes", "balanced", "early_stopping"}
TOP_LEVEL_KEYS |= VERSION_2_KEYS
# A bare adapter name means one of automl's own adapter modules.
BUILTIN_ADAPTERS = "automl.adapters"
PARAM_KEYS = {
    "type",
    "low",
    "high",
    "log",
    "choices",
    "default",
    "start",
    "when",
    "levels",
    "tasks",
    "why",
    "drives",
}


class _Where:
    """Formats the location part of an error message."""

    def __init__(self, source: str) -> None:
        self.source = source

    def error(self, table: str, message: str) -> SearchSpaceError:
        where = f"{self.source}: [{table}]" if table else f"{self.source}:"
        return SearchSpaceError(f"{where} {message}")


def load_space(path: str | Path) -> AlgorithmSpec:
    """Load and check one space file; the algorithm is named after the file's stem."""
    path = Path(path)
    if path.suffix != ".toml":
        raise SearchSpaceError(
            f"{path}: a search space file must be a .toml file; got {path.suffix or 'no suffix'!r}."
        )
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise SearchSpaceError(f"{path}: no such file.") from None
    return parse_space(text, name=path.stem, source=str(path))


def parse_space(text: str, name: str, source: str = "<string>") -> AlgorithmSpec:
    """Parse the TOML text of a space file (see search_spaces/README.md for the schema)."""
    where = _Where(source)
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise where.error("", f"not valid TOML: {exc}.") from None
    unknown = set(data) - TOP_LEVEL_KEYS
    if unknown:
        raise where.error(
            "",
            f"unknown top-level key(s) {sorted(unknown)}. Accepted keys: {sorted(TOP_LEVEL_KEYS)}.",
        )
    version = data.get("schema_version")
    if isinstance(version, bool) or version not in SUPPORTED_SCHEMA_VERSIONS:
        raise where.error(
            "",
            f"schema_version must be one of {list(SUPPORTED_SCHEMA_VERSIONS)}; got {version!r}. "
            f"Add 'schema_version = {SCHEMA_VERSION}' at the top of the file.",
        )
    newer = sorted(k for k in VERSION_2_KEYS if k in data)
    if version < 2 and newer:
        raise where.error(
            "", f"key(s) {newer} need schema_version = 2 (this file says {version}). Change it."
        )
    estimators = _estimators(data.get("estimator"), where)
    preprocessing = data.get("preprocessing", "scaled")
    if preprocessing not in PREPROCESSING_KINDS:
        raise where.error(
            "", f"preprocessing must be one of {list(PREPROCESSING_KINDS)}; got {preprocessing!r}."
        )
    categorical_codes = data.get("categorical_codes", "float")
    if categorical_codes not in CATEGORICAL_CODES:
        raise where.error(
            "",
            f"categorical_codes must be one of {list(CATEGORICAL_CODES)}; "
            f"got {categorical_codes!r}.",
        )
    if "categorical_codes" in data and preprocessing != "native":
        raise where.error(
            "",
            'categorical_codes applies only to preprocessing = "native" '
            f"(this file has {preprocessing!r}). Remove it.",
        )
    cost = data.get("cost", 1.0)
    if isinstance(cost, bool) or not isinstance(cost, (int, float)) or cost <= 0:
        raise where.error("", f"cost must be a positive number (relative fit cost); got {cost!r}.")
    max_rows = data.get("max_rows")
    if max_rows is not None and (not isinstance(max_rows, int) or max_rows <= 0):
        raise where.error("", f"max_rows must be a positive integer; got {max_rows!r}.")
    requires = _strings(data, "requires", 'module names, e.g. ["catboost"]', where)
    install = data.get("install", "")
    if not isinstance(install, str):
        raise where.error(
            "", f"install must be the command that installs what 'requires' names; got {install!r}."
        )
    example = 'e.g. ["catboost.core.CatBoostClassifier"]'
    trusted_types = _strings(data, "trusted_types", f"dotted type names, {example}", where)
    untyped = [t for t in trusted_types if "." not in t.strip(".")]
    if untyped:
        raise where.error(
            "",
            f"trusted_types {untyped} are not dotted type names 'module.Class' "
            "(as skops.io.get_untrusted_types prints them).",
        )
    adapter = _adapter(data.get("adapter"), version, where)
    params_table = data.get("params", {})
    if not isinstance(params_table, dict):
        raise where.error("params", "must be a table of [params.<name>] tables.")
    params: list[ParamSpec] = []
    for pname, raw in params_table.items():
        params.append(_param(pname, raw, params, where, version))
    fixed = _plain_table(data, "fixed", where)
    smoke = _plain_table(data, "smoke", where)
    balanced = _plain_table(data, "balanced", where)
    if balanced and "classification" not in estimators:
        raise where.error(
            "balanced",
            "only classifiers weight classes; this file has no classification estimator.",
        )
    early_stopping = _early_stopping(data, params, adapter, where)
    return AlgorithmSpec(
        name=name,
        estimators=estimators,
        params=tuple(params),
        preprocessing=preprocessing,
        fixed=fixed,
        smoke=smoke,
        requires=tuple(requires),
        cost=float(cost),
        max_rows=max_rows,
        adapter=adapter,
        trusted_types=tuple(trusted_types),
        install=install,
        categorical_codes=categorical_codes,
        balanced=balanced,
        early_stopping=early_stopping,
        description=str(data.get("description", "")),
        source=source,
    )


def _estimators(raw: Any, where: _Where) -> dict[str, str]:
    if not isinstance(raw, dict) or not raw:
        raise where.error(
            "estimator", "missing. Write e.g. 'estimator.classification = \"sklearn.svm:SVC\"'."
        )
    unknown = set(raw) - set(TASK_FAMILIES)
    if unknown:
        raise where.error(
            "estimator", f"unknown task family {sorted(unknown)}; use {list(TASK_FAMILIES)}."
        )
    for family, path in raw.items():
        if not isinstance(path, str) or path.count(":") != 1:
            raise where.error(
                "estimator",
                f"{family} = {path!r} must be an import path "
                "'module:Class', e.g. \"sklearn.svm:SVC\".",
            )
    return dict(raw)


def _strings(data: dict[str, Any], key: str, what: str, where: _Where) -> list[str]:
    value = data.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise where.error("", f"{key} must be a list of {what}; got {value!r}.")
    return value


def _adapter(raw: Any, version: int, where: _Where) -> str | None:
    """The adapter as an import path ``module:function``; a bare name is automl's own."""
    if raw is None:
        return None
    accepted = (
        'a bare name of a module in automl/adapters (e.g. "lightgbm")'
        if version < 2
        else 'an import path "package.module:function", or a bare name of a module in '
        'automl/adapters (e.g. "lightgbm")'
    )
    if not isinstance(raw, str) or not raw:
        raise where.error("", f"adapter must be {accepted}; got {raw!r}.")
    if ":" not in raw and raw.isidentifier():
        return f"{BUILTIN_ADAPTERS}.{raw}:build"
    module, _, function = raw.partition(":")
    importable = all(part.isidentifier() for part in module.split("."))
    if version < 2 or not (importable and function.isidentifier()):
        raise where.error("", f"adapter must be {accepted}; got {raw!r}.")
    return raw


def _early_stopping(
    data: dict[str, Any], params: list[ParamSpec], adapter: str | None, where: _Where
) -> EarlyStopping | None:
    """``[early_stopping]``: ``rounds`` (an int parameter of this file) and ``patience``."""
    if "early_stopping" not in data:
        return None
    table = _plain_table(data, "early_stopping", where)
    unknown = sorted(set(table) - {"rounds", "patience"})
    if unknown:
        raise where.error(
            "early_stopping", f"unknown key(s) {unknown}. Accepted keys: ['patience', 'rounds']."
        )
    rounds = table.get("rounds")
    ints = [p.name for p in params if p.type == "int"]
    if rounds not in ints:
        raise where.error(
            "early_stopping",
            f"'rounds' must name an int parameter of this file (one of {ints}); got {rounds!r}.",
        )
    patience = table.get("patience")
    if isinstance(patience, bool) or not isinstance(patience, int) or patience < 1:
        raise where.error(
            "early_stopping", f"'patience' must be an integer >= 1 (rounds); got {patience!r}."
        )
    if adapter is None:
        raise where.error(
            "early_stopping",
            "needs an adapter whose module defines fit_early_stopped(...) (the library's "
            "own way to stop on a validation set); add 'adapter = ...' or remove this table.",
        )
    return EarlyStopping(str(rounds), patience)


def _plain_table(data: dict[str, Any], key: str, where: _Where) -> dict[str, Any]:
    table = data.get(key, {})
    if not isinstance(table, dict):
        raise where.error(key, "must be a table of name = value pairs.")
    return dict(table)


def _number(raw: dict[str, Any], key: str, table: str, where: _Where) -> int | float:
    value = raw.get(key)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise where.error(table, f"'{key}' must be a number; got {value!r}.")
    return value


def _param(
    name: str, raw: Any, earlier: list[ParamSpec], where: _Where, version: int = SCHEMA_VERSION
) -> ParamSpec:
    table = f"params.{name}"
    if not isinstance(raw, dict):
        raise where.error(table, "must be a table with at least 'type' and 'default'.")
    unknown = set(raw) - PARAM_KEYS
    if unknown:
        raise where.error(
            table, f"unknown key(s) {sorted(unknown)}. Accepted: {sorted(PARAM_KEYS)}."
        )
    ptype = raw.get("type")
    if ptype not in PARAM_TYPES:
        raise where.error(table, f"type must be one of {list(PARAM_TYPES)}; got {ptype!r}.")
    if "default" not in raw:
        raise where.error(
            table,
            "missing 'default': give the value used in the opening "
            "configuration (usually the estimator's own default).",
        )
    tasks = tuple(raw.get("tasks", TASK_FAMILIES))
    if not set(tasks) <= set(TASK_FAMILIES):
        raise where.error(table, f"tasks must be among {list(TASK_FAMILIES)}; got {list(tasks)}.")
    if ptype == "categorical":
        choices = raw.get("choices")
        if not isinstance(choices, list) or len(choices) < 1:
            raise where.error(table, "a categorical parameter needs 'choices = [...]'.")
        for key in ("low", "high", "log"):
            if key in raw:
                raise where.error(
                    table,
                    f"'{key}' is for int and float parameters, not categorical ones. Remove it.",
                )
        spec = ParamSpec(name=name, type=ptype, default=raw["default"], choices=tuple(choices))
    else:
        low, high = _number(raw, "low", table, where), _number(raw, "high", table, where)
        if ptype == "int" and not (isinstance(low, int) and isinstance(high, int)):
            raise where.error(
                table, f"an int parameter needs integer bounds; got low={low!r}, high={high!r}."
            )
        if not low < high:
            raise where.error(table, f"'low' ({low}) must be below 'high' ({high}).")
        log = raw.get("log", False)
        if not isinstance(log, bool):
            raise where.error(table, f"'log' must be true or false; got {log!r}.")
        if log and low <= 0:
            raise where.error(table, f"a log-scaled range needs low > 0; got low={low}.")
        if "choices" in raw:
            raise where.error(
                table,
                "'choices' is for categorical parameters. Remove it or set type = \"categorical\".",
            )
        spec = ParamSpec(name=name, type=ptype, default=raw["default"], low=low, high=high, log=log)
    if not spec.contains(spec.default):
        raise where.error(
            table, f"default {spec.default!r} is outside the parameter's {_describe(spec)}."
        )
    start = raw.get("start")
    if start is not None and not spec.contains(start):
        raise where.error(table, f"start {start!r} is outside the parameter's {_describe(spec)}.")
    levels = tuple(raw.get("levels", ()))
    bad_levels = [v for v in levels if not spec.contains(v)]
    if bad_levels:
        raise where.error(
            table, f"levels {bad_levels} are outside the parameter's {_describe(spec)}."
        )
    when = _when(raw.get("when", {}), table, earlier, where)
    why = raw.get("why", "")
    if not isinstance(why, str) or not why.strip():
        raise where.error(
            table,
            "missing 'why': one line saying where the range comes from "
            "(paper, library docs, auto-sklearn/FLAML defaults, or a benchmark).",
        )
    return ParamSpec(
        name=spec.name,
        type=spec.type,
        default=spec.default,
        low=spec.low,
        high=spec.high,
        log=spec.log,
        choices=spec.choices,
        start=start,
        when=when,
        levels=levels,
        tasks=tasks,
        why=why,
        drives=_drives(raw, spec, version, table, where),
    )


def _drives(raw: dict[str, Any], spec: ParamSpec, version: int, table: str, where: _Where):
    """``drives``: the costs that grow with the parameter's value (schema version 3)."""
    if "drives" not in raw:
        return ()
    if version < 3:
        raise where.error(
            table, f"'drives' needs schema_version = 3 (this file says {version}). Change it."
        )
    drives = raw["drives"]
    if (
        not isinstance(drives, list)
        or not drives
        or not set(drives) <= set(COST_OBJECTIVES)
        or len(set(drives)) != len(drives)
    ):
        raise where.error(
            table,
            f"'drives' must list the costs that grow with this parameter, among "
            f"{list(COST_OBJECTIVES)}; got {drives!r}.",
        )
    if spec.type == "categorical":
        raise where.error(
            table, "'drives' is for int and float parameters (larger value, larger cost)."
        )
    return tuple(drives)


def _when(raw: Any, table: str, earlier: list[ParamSpec], where: _Where) -> dict[str, tuple]:
    if not isinstance(raw, dict):
        raise where.error(
            table, "'when' must be an inline table such as when = { kernel = [\"poly\"] }."
        )
    by_name = {p.name: p for p in earlier}
    when: dict[str, tuple] = {}
    for parent, values in raw.items():
        if parent not in by_name:
            raise where.error(
                table,
                f"'when' refers to {parent!r}, which is not declared "
                f"before it. Declare [params.{parent}] above [{table}].",
            )
        if not isinstance(values, list) or not values:
            raise where.error(
                table,
                f"'when' needs a non-empty list of values for {parent!r}, "
                f"e.g. when = {{ {parent} = [...] }}.",
            )
        bad = [v for v in values if not by_name[parent].contains(v)]
        if bad:
            raise where.error(
                table,
                f"'when' lists {bad} for {parent!r}, which can never take "
                f"them (its {_describe(by_name[parent])}).",
            )
        when[parent] = tuple(values)
    return when


def _describe(spec: ParamSpec) -> str:
    if spec.type == "categorical":
        return f"choices {list(spec.choices)}"
    return f"range [{spec.low}, {spec.high}] ({spec.type})"
