"""Which TFLite interpreter this device has, and the delegate the accelerator config asks for."""

from __future__ import annotations

import ctypes
import importlib
import logging
from dataclasses import dataclass
from types import ModuleType
from typing import Any

from edge_runtime.inference._errors import ModelError
from edge_runtime.sections import AcceleratorConfig

log = logging.getLogger("edge_runtime.inference")

BACKENDS = ("ai_edge_litert.interpreter", "tflite_runtime.interpreter")
EDGETPU_LIBRARY = "libedgetpu.so.1"


def interpreter_module() -> ModuleType:
    """``ai_edge_litert.interpreter`` first, ``tflite_runtime.interpreter`` on older devices."""
    for name in BACKENDS:
        try:
            return importlib.import_module(name)
        except ImportError:
            continue
    raise ModelError(
        "no TFLite interpreter: install ai-edge-litert (module ai_edge_litert.interpreter) "
        "or, on older devices, tflite-runtime (module tflite_runtime.interpreter)"
    )


@dataclass(frozen=True, slots=True)
class InterpreterOptions:
    """Keyword arguments for the interpreter, and what actually runs it (for logs and results)."""

    kwargs: dict[str, Any]
    device: str  # "xnnpack" | "edgetpu" | "cpu"


def interpreter_options(
    accel: AcceleratorConfig, where: str, edgetpu_library: str = EDGETPU_LIBRARY
) -> InterpreterOptions:
    """Build the interpreter arguments for ``accel``; ``where`` names the model in messages.

    edgetpu: the delegate library is loaded through ``load_delegate``; when it (or the device) is missing the
    error says so in one line, or, with ``fallback: cpu``, a warning says the model runs on the CPU instead.
    """
    module = interpreter_module()
    threads = accel.interpreter_threads
    if accel.delegate == "edgetpu":
        delegate, reason = _edgetpu(module, edgetpu_library)
        if delegate is not None:
            return InterpreterOptions({"num_threads": threads, "experimental_delegates": [delegate]}, "edgetpu")
        if accel.fallback != "cpu":
            raise ModelError(
                f"{where}: edgetpu delegate unavailable ({reason}); "
                "install libedgetpu and attach the device, or set accelerator.fallback: cpu"
            )
        log.warning("%s: edgetpu delegate unavailable (%s); running on the CPU (fallback: cpu)", where, reason)
        return InterpreterOptions({"num_threads": threads}, "cpu")
    if accel.delegate == "none":
        resolver = module.OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES
        return InterpreterOptions({"num_threads": threads, "experimental_op_resolver_type": resolver}, "cpu")
    return InterpreterOptions({"num_threads": threads}, "xnnpack")


def _edgetpu(module: ModuleType, library: str) -> tuple[Any, str]:
    """(delegate, "") or (None, why not). The library is opened with ctypes first: a failed ``load_delegate``
    leaves a half-made Delegate whose finalizer raises."""
    try:
        ctypes.CDLL(library)
    except OSError as exc:
        return None, _first_line(exc) or f"{library}: not found"
    try:
        return module.load_delegate(library), ""
    except (ValueError, OSError, RuntimeError) as exc:
        return None, f"{library}: {_first_line(exc) or 'no device'}"


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else ""
