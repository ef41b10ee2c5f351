"""Tiny hand-built .tflite files for the bad-input tests: one op, one input, one output."""

from __future__ import annotations

from pathlib import Path

import flatbuffers  # type: ignore[import-untyped]  # no stubs; comes with ai-edge-litert
from ai_edge_litert import schema_py_generated as schema


def _tensor(name: str, shape: list[int], buffer: int) -> schema.TensorT:
    tensor = schema.TensorT()
    tensor.name = name
    tensor.shape = shape
    tensor.type = schema.TensorType.FLOAT32
    tensor.buffer = buffer
    return tensor


def one_op_model(path: Path, input_shape: list[int], builtin: int, custom: str | None = None) -> Path:
    """A model ``input -> op -> output`` (same shape); ``custom`` makes the op a custom op of that name."""
    code = schema.OperatorCodeT()
    code.builtinCode = schema.BuiltinOperator.CUSTOM if custom else builtin
    code.deprecatedBuiltinCode = min(code.builtinCode, 127)
    code.customCode = custom
    code.version = 1
    op = schema.OperatorT()
    op.opcodeIndex = 0
    op.inputs, op.outputs = [0], [1]
    graph = schema.SubGraphT()
    graph.tensors = [_tensor("x", input_shape, 1), _tensor("y", input_shape, 2)]
    graph.inputs, graph.outputs, graph.operators = [0], [1], [op]
    graph.name = "main"
    model = schema.ModelT()
    model.version = 3
    model.operatorCodes = [code]
    model.subgraphs = [graph]
    model.buffers = [schema.BufferT() for _ in range(3)]
    model.description = "test"
    builder = flatbuffers.Builder(1024)
    builder.Finish(model.Pack(builder), file_identifier=b"TFL3")
    path.write_bytes(bytes(builder.Output()))
    return path
