"""YAML reading that remembers where every key came from, and `${env:NAME,default}` interpolation.

`load_yaml(path)` returns plain data plus a `Marks` map from key paths to `(file, line, col)`, so a validation
error on `streams.porch.source.fps` can point at the line the user wrote. Duplicate keys are an error
(PyYAML would silently keep the last one).

The file is hostile until checked: nesting deeper than `MAX_DEPTH`, more than `MAX_NODES` values after alias
expansion (a "billion laughs" bomb), a malformed `${...}` reference and a tag whose value does not parse are
each one problem, never a traceback or a hang.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from edge_runtime.config._errors import ConfigError, Problem, preview
from edge_runtime.files import read_regular_file

Path_ = tuple[str | int, ...]
_ENV = re.compile(r"\$\{env:([A-Za-z_][A-Za-z0-9_]*)(?:,([^}]*))?\}")
_REFERENCE = re.compile(r"\$\{[^}]*\}?")  # every `${...}`, well formed or not
_COLLECTION_TAGS = ("tag:yaml.org,2002:map", "tag:yaml.org,2002:seq")
MAX_DEPTH = 64  # nested mappings/lists; real configs use fewer than 10
MAX_NODES = 20_000  # values after alias expansion; a real config has a few hundred
MAX_BYTES = 4 * 1024**2  # a config file larger than this is refused unread


@dataclass(frozen=True)
class Mark:
    file: str
    line: int  # 1-based
    col: int  # 1-based


@dataclass
class Marks:
    """Where each key path was written; the closest enclosing path answers for paths that were not."""

    by_path: dict[Path_, Mark] = field(default_factory=dict)

    def find(self, path: Path_) -> Mark | None:
        for end in range(len(path), -1, -1):
            mark = self.by_path.get(tuple(path[:end]))
            if mark is not None:
                return mark
        return None

    def graft(self, prefix: Path_, other: Marks) -> None:
        """Add another file's marks under `prefix` (an included pipeline)."""
        for path, mark in other.by_path.items():
            self.by_path[prefix + path] = mark


def load_yaml(path: Path) -> tuple[Any, Marks]:
    """Parse one YAML file; raise ConfigError with one Problem per syntax or interpolation error."""
    name = str(path)
    text = _read_text(path, name)
    node = _compose(text, name)
    if node is None:
        raise ConfigError([Problem(name, 1, 1, "", "the file is empty")])
    builder = _Builder(name)
    data = builder.build(node, ())
    if builder.problems:
        raise ConfigError(builder.problems)
    return data, builder.marks


def _read_text(path: Path, name: str) -> str:
    try:
        data = read_regular_file(path, MAX_BYTES)
    except OSError as exc:
        raise ConfigError([Problem(name, 1, 1, "", f"cannot read file: {exc.strerror or exc}")]) from None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise ConfigError([Problem(name, line, 1, "", f"not UTF-8 text (byte {exc.start})")]) from None


def _compose(text: str, name: str) -> yaml.Node | None:
    try:
        return yaml.compose(text, Loader=_DepthLimitedLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        message = " ".join(" ".join(filter(None, [exc.context, exc.problem])).split()) or "invalid YAML"
        raise ConfigError([Problem(name, line, col, "", f"invalid YAML: {message}")]) from None
    except yaml.reader.ReaderError as exc:  # a control character: PyYAML gives only an offset
        line, col = _line_col(text, exc.position)
        what = f"character #x{exc.character:02x}" if isinstance(exc.character, int) else "a character"
        raise ConfigError([Problem(name, line, col, "", f"invalid YAML: {what} is not allowed")]) from None
    except yaml.YAMLError as exc:
        raise ConfigError([Problem(name, 1, 1, "", f"invalid YAML: {exc}")]) from None


def _line_col(text: str, position: int) -> tuple[int, int]:
    before = text[:position]
    return before.count("\n") + 1, position - (before.rfind("\n") + 1) + 1


class _DepthLimitedLoader(yaml.SafeLoader):
    """PyYAML composes nested nodes recursively: refuse nesting deeper than MAX_DEPTH before Python's stack ends."""

    _depth = 0

    def compose_node(self, parent: yaml.Node | None, index: int) -> yaml.Node | None:
        if self._depth >= MAX_DEPTH:
            mark = self.peek_event().start_mark  # type: ignore[no-untyped-call]
            raise yaml.composer.ComposerError(None, None, f"nested deeper than {MAX_DEPTH} levels", mark)
        self._depth += 1
        try:
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1


class _Builder:
    def __init__(self, file: str) -> None:
        self.file = file
        self.marks = Marks()
        self.problems: list[Problem] = []
        self._open: set[int] = set()  # nodes being built on the current path
        self._built = 0  # values built so far, each alias expansion counted again

    def build(self, node: yaml.Node, path: Path_) -> Any:
        if id(node) in self._open:  # an alias that refers to a node containing it
            mark = self._mark(node)
            where = ".".join(str(p) for p in path)
            self.problems.append(Problem(self.file, mark.line, mark.col, where, "recursive alias"))
            return None
        self._built += 1
        if self._built > MAX_NODES:
            if self._built == MAX_NODES + 1:
                mark = self._mark(node)
                where = ".".join(str(p) for p in path)
                message = f"more than {MAX_NODES} values once aliases are expanded (an alias bomb?)"
                self.problems.append(Problem(self.file, mark.line, mark.col, where, message))
            return None
        self._open.add(id(node))
        try:
            return self._build(node, path)
        finally:
            self._open.discard(id(node))

    def _build(self, node: yaml.Node, path: Path_) -> Any:
        self.marks.by_path.setdefault(path, self._mark(node))
        if isinstance(node, yaml.CollectionNode) and node.tag not in _COLLECTION_TAGS:  # `!foo {a: 1}`, `!!set`
            tag = node.tag.replace("tag:yaml.org,2002:", "!!")
            self._problem(node, path, f"unknown tag {tag} on a mapping or list")
            return None
        if isinstance(node, yaml.MappingNode):
            return self._mapping(node, path)
        if isinstance(node, yaml.SequenceNode):
            return [self.build(child, (*path, i)) for i, child in enumerate(node.value)]
        assert isinstance(node, yaml.ScalarNode)
        if node.tag == "tag:yaml.org,2002:str" and "${" in node.value:
            return self._interpolate(node, path)
        return self._scalar(node, path)

    def _scalar(self, node: yaml.ScalarNode, path: Path_) -> Any:
        """Run the tag's constructor (`!!int abc`, `!!timestamp 2024-99-99`, `!foo`): a failure is a problem."""
        try:
            return yaml.SafeLoader("").construct_object(node)
        except Exception as exc:  # PyYAML's constructors fail many ways (ValueError, KeyError, ...)
            tag = node.tag.replace("tag:yaml.org,2002:", "!!")
            reason = "unknown tag" if isinstance(exc, yaml.constructor.ConstructorError) else "cannot be read as"
            self._problem(node, path, f"{reason} {tag} (value {preview(node.value)})")
            return None

    def _mapping(self, node: yaml.MappingNode, path: Path_) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key_node, value_node in node.value:
            key = str(key_node.value)
            if key in out:
                mark = self._mark(key_node)
                where = ".".join(str(p) for p in (*path, key))
                self.problems.append(Problem(self.file, mark.line, mark.col, where, f"duplicate key {key!r}"))
                continue
            self.marks.by_path[(*path, key)] = self._mark(key_node)
            out[key] = self.build(value_node, (*path, key))
            self.marks.by_path[(*path, key)] = self._mark(key_node)
        return out

    def _interpolate(self, node: yaml.ScalarNode, path: Path_) -> str:
        def replace(match: re.Match[str]) -> str:
            name, default = match.group(1), match.group(2)
            value = os.environ.get(name)
            if value is not None:
                return value
            if default is not None:
                return default.strip()
            mark = self._mark(node)
            where = ".".join(str(p) for p in path)
            self.problems.append(
                Problem(self.file, mark.line, mark.col, where, f"environment variable {name} is not set (no default)")
            )
            return ""

        for match in _REFERENCE.finditer(node.value):
            if not _ENV.fullmatch(match.group(0)):
                self._problem(
                    node,
                    path,
                    f"malformed reference {preview(match.group(0))}: write ${{env:NAME}} or ${{env:NAME,default}}",
                )
        return _ENV.sub(replace, node.value)

    def _problem(self, node: yaml.Node, path: Path_, message: str) -> None:
        mark = self._mark(node)
        self.problems.append(Problem(self.file, mark.line, mark.col, ".".join(str(p) for p in path), message))

    def _mark(self, node: yaml.Node) -> Mark:
        return Mark(self.file, node.start_mark.line + 1, node.start_mark.column + 1)
