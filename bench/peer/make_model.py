#!/usr/bin/python3
"""Writes the peer's ONNX model: one com.microsoft.MultiHeadAttention node (ONNX Runtime's fused CPU
attention, its flash kernel for long sequences), self-attention of one head of width D on float32 Q, K, V
of shape (1, N, D), scale 1/sqrt(D), causal when asked (attribute unidirectional).
Usage: make_model.py OUT.onnx D [causal]   (needs Debian's python3-onnx)"""
import sys

import onnx
from onnx import TensorProto, helper


def main() -> None:
    out, d = sys.argv[1], int(sys.argv[2])
    causal = len(sys.argv) > 3 and sys.argv[3] == "causal"
    shape = [1, "N", d]
    inputs = [helper.make_tensor_value_info(name, TensorProto.FLOAT, shape) for name in ("query", "key", "value")]
    output = helper.make_tensor_value_info("output", TensorProto.FLOAT, shape)
    node = helper.make_node("MultiHeadAttention", ["query", "key", "value"], ["output"], domain="com.microsoft",
                            num_heads=1, unidirectional=1 if causal else 0)
    graph = helper.make_graph([node], "attention", inputs, [output])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17), helper.make_opsetid("com.microsoft", 1)])
    onnx.save(model, out)


if __name__ == "__main__":
    main()
