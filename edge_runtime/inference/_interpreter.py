"""A thin wrapper over one TFLite interpreter: tensor facts, a writable input, invoke, dequantized outputs."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from edge_runtime.inference._backend import interpreter_module, interpreter_options
from edge_runtime.inference._errors import ModelError
from edge_runtime.inference._pages import release
from edge_runtime.sections import AcceleratorConfig

FloatArray = npt.NDArray[np.float32]
_OP_PATTERNS = (
    re.compile(r"(unresolved custom op: [^\s.]+)", re.IGNORECASE),
    re.compile(r"(Didn't find op for builtin opcode '[^']+'[^\n.]*)"),
    re.compile(r"(Op builtin_code out of range: \d+)"),
)


@dataclass(frozen=True, slots=True)
class TensorInfo:
    """What the model file says about one input or output tensor."""

    index: int
    name: str
    shape: tuple[int, ...]
    dtype: np.dtype[Any]
    scale: float  # 0.0 when not quantized (per-tensor)
    zero_point: int
    key: str = ""  # the signature's name for the tensor, when the model has a signature

    @property
    def hint(self) -> str:
        """Lower-case tensor name and signature key, for decoders that find outputs by name."""
        return f"{self.name} {self.key}".lower()

    @property
    def quantized(self) -> bool:
        return self.scale != 0.0

    def describe(self) -> str:
        """``'input' float32 [1,128,128,3]`` or with ``q(scale=0.0039, zp=0)``."""
        dims = ",".join(str(d) for d in self.shape)
        text = f"{self.name!r} {self.dtype.name} [{dims}]"
        return text + (f" q(scale={self.scale:.6g}, zp={self.zero_point})" if self.quantized else "")

    @classmethod
    def from_details(cls, details: dict[str, Any]) -> TensorInfo:
        scale, zero_point = details.get("quantization", (0.0, 0))
        params = details.get("quantization_parameters", {})
        scales = params.get("scales")
        if scales is not None and len(scales) > 1:  # per-channel on an I/O tensor: use the first (rare)
            scale, zero_point = float(scales[0]), int(params["zero_points"][0])
        return cls(
            index=int(details["index"]),
            name=str(details["name"]),
            shape=tuple(int(d) for d in details["shape"]),
            dtype=np.dtype(details["dtype"]),
            scale=float(scale),
            zero_point=int(zero_point),
        )


def dequantize(raw: npt.NDArray[Any], info: TensorInfo) -> FloatArray:
    """Real values of an output tensor: ``(q - zero_point) * scale``, or the floats themselves."""
    if info.quantized:
        return (raw.astype(np.float32) - np.float32(info.zero_point)) * np.float32(info.scale)
    return raw.astype(np.float32, copy=False)


class LiteInterpreter:
    """One interpreter of one model file, ready to run (tensors allocated). Not thread-safe: one per lane."""

    def __init__(self, path: Path, accel: AcceleratorConfig, where: str) -> None:
        self.where = where
        options = interpreter_options(accel, where)
        self.device = options.device
        module = interpreter_module()
        try:
            self._interp = module.Interpreter(model_path=str(path), **options.kwargs)
            self._interp.allocate_tensors()
        except (ValueError, RuntimeError) as exc:
            raise ModelError(f"{where}: {_explain(exc)}") from None
        if self.device == "xnnpack":  # the weights are packed: the file's pages are not read again
            release(path)
        self.inputs = [TensorInfo.from_details(d) for d in self._interp.get_input_details()]
        keys = _signature_keys(self._interp)
        self.outputs = [
            replace(info, key=keys.get(info.index, ""))
            for info in (TensorInfo.from_details(d) for d in self._interp.get_output_details())
        ]

    def input_buffer(self, position: int = 0) -> Callable[[], npt.NDArray[Any]]:
        """A function returning a writable view of an input tensor; drop the view before ``invoke()``."""
        getter: Callable[[], npt.NDArray[Any]] = self._interp.tensor(self.inputs[position].index)
        return getter

    def set_input(self, value: npt.NDArray[Any], position: int = 0) -> None:
        self._interp.set_tensor(self.inputs[position].index, value)

    def invoke(self) -> None:
        """Run the model (releases the GIL while the kernels run)."""
        self._interp.invoke()

    def raw_outputs(self) -> list[npt.NDArray[Any]]:
        return [self._interp.get_tensor(t.index) for t in self.outputs]

    def outputs_float(self) -> list[FloatArray]:
        """Every output, dequantized to float32, in the order the model lists them."""
        return [dequantize(self._interp.get_tensor(t.index), t) for t in self.outputs]

    def ops(self) -> list[str]:
        """Operator names in execution order, when the interpreter can tell (empty otherwise)."""
        details = getattr(self._interp, "_get_ops_details", None)
        if details is None:
            return []
        return [str(op.get("op_name", "?")) for op in details()]


def _signature_keys(interp: Any) -> dict[int, str]:
    """Tensor index -> signature output key (e.g. ``detection_scores``), when the model has one signature."""
    signatures = getattr(interp, "_get_full_signature_list", None)
    try:
        found = signatures() if signatures is not None else {}
    except (ValueError, RuntimeError):
        return {}
    if len(found) != 1:
        return {}
    outputs = next(iter(found.values())).get("outputs", {})
    return {int(index): str(key) for key, index in outputs.items()}


def _explain(exc: BaseException) -> str:
    text = str(exc)
    for pattern in _OP_PATTERNS:
        found = pattern.search(text)
        if found:
            return f"unsupported op ({found.group(1)}); this runtime's interpreter cannot run the model"
    if "not a valid Flatbuffer" in text or "Could not open" in text:
        return "not a valid TFLite file (truncated or another format)"
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return lines[0] if lines else type(exc).__name__
