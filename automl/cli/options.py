"""Option values shared by several commands."""

from __future__ import annotations

from automl.cli import UsageError


def parse_cv(text: str) -> int | float | str:
    """``--cv``: ``auto``, a number of folds (``5``) or a holdout fraction (``0.2``)."""
    if text == "auto":
        return text
    try:
        value = float(text)
    except ValueError:
        raise UsageError(
            f"--cv must be 'auto', a number of folds (e.g. 5) or a holdout "
            f"fraction (e.g. 0.2); got {text!r}."
        ) from None
    return int(value) if value.is_integer() else value


CV_HELP = (
    "inner validation: 'auto' (5 folds up to 10,000 rows, a 20%% holdout above), "
    "K folds, or a holdout fraction like 0.2 (default: auto)"
)
