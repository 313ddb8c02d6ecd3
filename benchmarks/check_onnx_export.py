r"""Checks ONNX files written by `./latent4j export` with the official onnx package (Debian's python3-onnx):
onnx.checker.check_model(full_check=True) (the IR, the opset's operator schemas, and strict shape inference), then
onnx.shape_inference.infer_shapes(strict_mode=True), printing each graph's inputs and outputs with the shapes the
inference gives them (the batch dimension stays symbolic), and the operators used.

    /usr/bin/python3 benchmarks/check_onnx_export.py DIR [DIR ...]      # folders holding encoder/decoder/reconstruct.onnx

onnx.reference.ReferenceEvaluator (onnx >= 1.13) runs the graphs when it is there and compares them with the
CSV files DIR/x.csv -> DIR/reconstruction.csv written by `./latent4j reconstruct` when present; Debian's onnx 1.12
has no evaluator, so there the numbers are checked by OnnxExportTest's reference interpreter and by
benchmarks/onnx-runtime (ONNX Runtime) instead. One JSON line per file; exits non-zero on any failure.
"""
import json, os, sys

import onnx
from onnx import shape_inference


def dims(value_info):
    t = value_info.type.tensor_type
    return [d.dim_param if d.dim_param else d.dim_value for d in t.shape.dim]


def read_csv(path):
    import numpy as np
    rows = [[float(v) for v in line.split(",")] for line in open(path) if line.strip() and not line[0].isalpha()]
    return np.array(rows, dtype=np.float32)


def main():
    failures = 0
    for d in sys.argv[1:]:
        for name in ("encoder.onnx", "decoder.onnx", "reconstruct.onnx"):
            path = os.path.join(d, name)
            line = {"file": path}
            try:
                m = onnx.load(path)
                onnx.checker.check_model(m, full_check=True)
                inferred = shape_inference.infer_shapes(m, check_type=True, strict_mode=True)
                outs = {o.name: dims(o) for o in inferred.graph.output}
                line.update(ok=True, onnx=onnx.__version__, ir_version=m.ir_version, opset=[o.version for o in m.opset_import],
                            inputs={i.name: dims(i) for i in m.graph.input}, outputs=outs,
                            value_infos=len(inferred.graph.value_info), nodes=len(m.graph.node),
                            ops=sorted({n.op_type for n in m.graph.node}))
                try:
                    from onnx.reference import ReferenceEvaluator  # onnx >= 1.13
                except ImportError:
                    ReferenceEvaluator = None
                x_csv, r_csv = os.path.join(d, "x.csv"), os.path.join(d, "reconstruction.csv")
                if ReferenceEvaluator and name == "reconstruct.onnx" and os.path.exists(x_csv) and os.path.exists(r_csv):
                    import numpy as np
                    x = read_csv(x_csv)
                    shape = [x.shape[0]] + [v for v in dims(m.graph.input[0])[1:]]
                    got = ReferenceEvaluator(m).run(None, {"x": x.reshape(shape)})[0].reshape(x.shape[0], -1)
                    want = read_csv(r_csv)
                    diff = float(np.max(np.abs(got - want) / np.maximum(1, np.abs(want))))
                    line.update(reference_evaluator_max_rel_diff=diff)
                    if diff > 1e-5:
                        line["ok"] = False
                else:
                    line.update(reference_evaluator="not run (onnx " + onnx.__version__ + (" has none)" if not ReferenceEvaluator else
                                                                                        ": no x.csv / reconstruction.csv)"))
            except Exception as e:  # the checker's own message says what is wrong
                line.update(ok=False, error=f"{type(e).__name__}: {e}")
            failures += 0 if line["ok"] else 1
            print(json.dumps(line), flush=True)
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
