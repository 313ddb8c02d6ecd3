"""Writes src/test/resources/onnx/gemm-by-python-onnx.onnx: a tiny ONNX model built by the official
python onnx package (Debian's python3-onnx), which OnnxProtoTest parses with the generated Java
classes to check they read what the reference implementation writes.

    /usr/bin/python3 benchmarks/tools/make_onnx_proto_fixture.py    # Debian's python3 (python3-onnx)

The model: y = Sigmoid(Gemm(x, W, b, transB=1, alpha=0.5)) with x of shape [batch, 3] (batch a
symbolic dimension), W [2, 3] stored as raw little-endian floats, b [2] stored as float_data;
opset 17, producer "make_onnx_proto_fixture".
"""
import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

w = np.array([[1.0, -2.0, 0.25], [3.5, 0.0, -1.0]], dtype=np.float32)
W = numpy_helper.from_array(w, name="W")  # raw_data
b = helper.make_tensor("b", TensorProto.FLOAT, [2], [0.5, -0.75])  # float_data
gemm = helper.make_node("Gemm", ["x", "W", "b"], ["h"], name="gemm0", transB=1, alpha=0.5)
sig = helper.make_node("Sigmoid", ["h"], ["y"], name="sigmoid0")
graph = helper.make_graph(
    [gemm, sig], "tiny",
    [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", 3])],
    [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["batch", 2])],
    initializer=[W, b])
model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)],
                          producer_name="make_onnx_proto_fixture")
onnx.checker.check_model(model)
onnx.save(model, "src/test/resources/onnx/gemm-by-python-onnx.onnx")
print("wrote src/test/resources/onnx/gemm-by-python-onnx.onnx,", len(model.SerializeToString()), "bytes, ir_version", model.ir_version)
