"""Declarative search spaces: the schema, TOML loading, and turning specs into trials."""

from automl.space.loading import load_space, parse_space
from automl.space.schema import AlgorithmSpec, ParamSpec

__all__ = ["AlgorithmSpec", "ParamSpec", "load_space", "parse_space"]
