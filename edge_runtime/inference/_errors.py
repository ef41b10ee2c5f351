"""The one error a bad model raises: one line naming the model, the file and what is wrong."""

from __future__ import annotations

from pathlib import Path


class ModelError(Exception):
    """A model cannot be used; ``str(err)`` is the single line to show the user."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message

    @classmethod
    def of(cls, name: str, path: Path | str, problem: str) -> ModelError:
        """``model 'faces' (models/x.tflite): <problem>``."""
        return cls(f"model {name!r} ({path}): {problem}")
