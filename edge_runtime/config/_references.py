"""Checks that need the whole config: names that refer to other sections, and files that must exist."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from edge_runtime.cascade._checks import check_pipeline_shape
from edge_runtime.config._errors import Problem
from edge_runtime.config._models import BUILTIN_SINKS, InferStageConfig, RuntimeConfig, StreamConfig
from edge_runtime.config._resources import check_resources
from edge_runtime.config._yaml import Marks, Path_
from edge_runtime.files import resolve_path

Report = Callable[[Path_, str], None]


def check_references(config: RuntimeConfig, marks: Marks, file: str, base_dir: Path) -> list[Problem]:
    problems: list[Problem] = []

    def problem(path: Path_, message: str) -> None:
        mark = marks.find(path)
        line, col, where = (mark.line, mark.col, mark.file) if mark else (1, 1, file)
        problems.append(Problem(where, line, col, ".".join(str(p) for p in path), message))

    for name, model in config.models.items():
        path = resolve_path(base_dir, model.path)
        reason = _unusable(path)
        if reason is not None:
            problem(("models", name, "path"), reason)
        elif not path.is_file():
            hint = "shipped models are fetched by `edge-runtime models fetch`"
            problem(("models", name, "path"), f"model file not found: {path} ({hint})")
    shares = {name: s.min_share for name, s in config.streams.items() if s.min_share}
    if sum(shares.values()) > 1:
        last = list(shares)[-1]
        problem(("streams", last, "min_share"), f"the streams' min_share add up to {sum(shares.values()):g} (max 1)")
    for stream_name, stream in config.streams.items():
        _check_pipeline(config, ("streams", stream_name), stream, problem)
        _check_sinks(config, ("streams", stream_name), stream, problem)
    check_resources(config, base_dir, problem)
    return problems


def _unusable(path: Path) -> str | None:
    """A path the system cannot even look up (a name too long, a loop): the reason, else None."""
    try:
        path.is_file()
    except (OSError, ValueError) as exc:
        return f"cannot use this path: {getattr(exc, 'strerror', None) or exc}"
    return None


def _check_pipeline(config: RuntimeConfig, base: Path_, stream: StreamConfig, problem: Report) -> None:
    stages = stream.pipeline if isinstance(stream.pipeline, list) else []
    names = [str(base[-1]), *(n for n in config.streams if n != base[-1])]
    check_pipeline_shape(
        stages, config.models, names, lambda where, message: problem((*base, "pipeline", *where), message)
    )
    seen: set[str] = set()
    for i, stage in enumerate(stages):
        stage_name = stage.name or stage.type
        if stage_name in seen:
            problem((*base, "pipeline", i, "name"), f"duplicate stage name {stage_name!r} in this pipeline")
        seen.add(stage_name)
        if isinstance(stage, InferStageConfig) and stage.model not in config.models:
            known = ", ".join(sorted(config.models)) or "none defined"
            problem((*base, "pipeline", i, "model"), f"unknown model {stage.model!r} (models: {known})")


def _check_sinks(config: RuntimeConfig, base: Path_, stream: StreamConfig, problem: Report) -> None:
    for i, sink in enumerate(stream.sinks):
        if sink in stream.sinks[:i]:
            problem((*base, "sinks", i), f"sink {sink!r} is listed twice")
        elif sink == "cloud" and config.cloud is None:
            problem((*base, "sinks", i), "sink 'cloud' needs a top-level `cloud:` section")
        elif sink not in config.sinks and sink not in BUILTIN_SINKS:
            known = ", ".join([*BUILTIN_SINKS, *sorted(config.sinks)])
            problem((*base, "sinks", i), f"unknown sink {sink!r} (sinks: {known})")


__all__ = ["check_references", "resolve_path"]
