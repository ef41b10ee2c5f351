"""Load a config file: YAML with marks, named pipelines, pydantic validation, cross-references.

Every problem becomes one `FILE:LINE:COL: key.path: message` line; `load_config` raises `ConfigError` with all
of them at once, so a user fixes a file in one pass.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import ValidationError
from pydantic_core import ErrorDetails

from edge_runtime.config._errors import ConfigError, Problem
from edge_runtime.config._messages import clean_loc, describe
from edge_runtime.config._models import RuntimeConfig
from edge_runtime.config._references import check_references
from edge_runtime.config._yaml import Marks, Path_, load_yaml

PACKAGE_PIPELINES = Path(__file__).resolve().parents[2] / "pipelines"


def load_config(path: str | Path) -> RuntimeConfig:
    """Read, validate and cross-check one config file; raise ConfigError listing every problem."""
    file = Path(path)
    data, marks = load_yaml(file)
    if not isinstance(data, dict):
        raise ConfigError([Problem(str(file), 1, 1, "", "the top level must be a mapping of sections")])
    problems = _resolve_pipelines(data, marks, file.parent)
    if problems:
        raise ConfigError(problems)
    try:
        config = RuntimeConfig.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(_problems_from(exc, data, marks, str(file))) from None
    problems = check_references(config, marks, str(file), file.parent)
    if problems:
        raise ConfigError(problems)
    return config


def pipeline_dirs(config_dir: Path) -> list[Path]:
    """Where `pipeline: NAME` is looked up, in order."""
    return [config_dir / "pipelines", config_dir.parent / "pipelines", PACKAGE_PIPELINES]


def _resolve_pipelines(data: dict[str, Any], marks: Marks, config_dir: Path) -> list[Problem]:
    """Replace `pipeline: NAME` with the stages of pipelines/NAME.yaml, keeping that file's marks."""
    problems: list[Problem] = []
    streams = data.get("streams")
    if not isinstance(streams, dict):
        return problems
    for stream_name, stream in streams.items():
        if not isinstance(stream, dict) or not isinstance(stream.get("pipeline"), str):
            continue
        name = stream["pipeline"]
        key: Path_ = ("streams", stream_name, "pipeline")
        found = _find_pipeline(name, config_dir)
        if found is None:
            mark = marks.find(key)
            line, col = (mark.line, mark.col) if mark else (1, 1)
            problems.append(
                Problem(marks_file(marks, key), line, col, ".".join(map(str, key)), f"unknown pipeline {name!r}")
            )
            continue
        try:
            pipe, pipe_marks = load_yaml(found)
        except ConfigError as exc:
            problems.extend(exc.problems)
            continue
        if not isinstance(pipe, dict) or "stages" not in pipe:
            problems.append(Problem(str(found), 1, 1, "", "a pipeline file needs a `stages:` list"))
            continue
        stream["pipeline"] = pipe["stages"]
        marks.graft(key, _subtree(pipe_marks, ("stages",)))
    return problems


def _find_pipeline(name: str, config_dir: Path) -> Path | None:
    if "/" in name or "\\" in name or "\0" in name or len(name) > 200:
        return None
    return next((d / f"{name}.yaml" for d in pipeline_dirs(config_dir) if (d / f"{name}.yaml").is_file()), None)


def marks_file(marks: Marks, path: Path_) -> str:
    mark = marks.find(path)
    return mark.file if mark else "<config>"


def _subtree(marks: Marks, prefix: Path_) -> Marks:
    out = Marks()
    for path, mark in marks.by_path.items():
        if path[: len(prefix)] == prefix:
            out.by_path[path[len(prefix) :]] = mark
    return out


def _problems_from(exc: ValidationError, data: Any, marks: Marks, file: str) -> list[Problem]:
    problems = []
    errors = [(clean_loc(data, error["loc"]), error) for error in exc.errors()]
    for loc, error in errors:
        if _said_elsewhere(loc, error, errors):
            continue
        mark = marks.find(loc)
        line, col, where = (mark.line, mark.col, mark.file) if mark else (1, 1, file)
        problems.append(Problem(where, line, col, ".".join(str(p) for p in loc), describe(error)))
    return problems


def _said_elsewhere(loc: Path_, error: ErrorDetails, errors: list[tuple[Path_, ErrorDetails]]) -> bool:
    """The `str` branch of a `name | list` union given a list: the other branch's errors say what is wrong."""
    if error["type"] != "string_type" or not isinstance(error.get("input"), list | dict):
        return False
    return any(other is not error and other_loc[: len(loc)] == loc for other_loc, other in errors)
