"""Inference: TFLite/LiteRT models described in the config, checked at load, run by lanes, decoded to results."""

from __future__ import annotations

from edge_runtime.inference._backend import interpreter_module
from edge_runtime.inference._config import InputConfig, ModelConfig
from edge_runtime.inference._errors import ModelError
from edge_runtime.inference._geometry import Geometry
from edge_runtime.inference._inspect import inspect_model
from edge_runtime.inference._interpreter import LiteInterpreter, TensorInfo, dequantize
from edge_runtime.inference._model import LoadedModel, TfliteModelHandle, TfliteRunner, load_model, model_sha256
from edge_runtime.inference._preprocess import InputPlan, Preprocessor
from edge_runtime.inference.decoders import DECODER_KINDS, DecoderConfig

__all__ = [
    "DECODER_KINDS",
    "DecoderConfig",
    "Geometry",
    "InputConfig",
    "InputPlan",
    "LiteInterpreter",
    "LoadedModel",
    "ModelConfig",
    "ModelError",
    "Preprocessor",
    "TensorInfo",
    "TfliteModelHandle",
    "TfliteRunner",
    "dequantize",
    "inspect_model",
    "interpreter_module",
    "load_model",
    "model_sha256",
]
