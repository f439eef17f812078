"""qdet.Interpreter: tf.lite.Interpreter's surface, outputs equal to `qdet run`."""

import numpy as np
import pytest

import qdet
from conftest import require

# The shared models with qdet's whole dtype range at the inputs: float32, uint8.
MODELS = [
    "yolox_nano_fp32_416.tflite",
    "ssd_mobilenet_v1_1_metadata_1.tflite",
    "yolov5n-int8.tflite",
    "yolov5n-fp16.tflite",
]


def random_input(detail, rng):
    shape = tuple(detail["shape"])
    dtype = np.dtype(detail["dtype"])
    if dtype.kind == "f":
        return rng.uniform(0, 1, size=shape).astype(dtype)
    info = np.iinfo(dtype)
    return rng.integers(info.min, info.max, size=shape, endpoint=True, dtype=dtype)


@pytest.mark.parametrize("name", MODELS)
def test_outputs_equal_qdet_run(name, models, run_qdet, tmp_path):
    model = require(models / name)
    interpreter = qdet.Interpreter(model_path=str(model))
    interpreter.allocate_tensors()
    rng = np.random.default_rng(7)
    inputs = []
    for i, detail in enumerate(interpreter.get_input_details()):
        value = random_input(detail, rng)
        interpreter.set_tensor(detail["index"], value)
        (tmp_path / f"in{i}.bin").write_bytes(value.tobytes())
        inputs += ["--input", tmp_path / f"in{i}.bin"]
    interpreter.invoke()

    run = run_qdet.json("run", model, *inputs, "--dump-dir", tmp_path / "dump")
    assert len(run["outputs"]) == len(interpreter.get_output_details())
    for detail, expected in zip(interpreter.get_output_details(), run["outputs"]):
        got = interpreter.get_tensor(detail["index"])
        assert detail["index"] == expected["id"]
        assert list(got.shape) == expected["shape"]
        assert got.dtype == np.dtype(expected["dtype"])
        # Bit for bit: the same interpreter, the same kernels.
        assert got.tobytes() == open(expected["file"], "rb").read(), detail["name"]


@pytest.mark.parametrize("name", MODELS)
def test_details_match_the_model(name, models, run_qdet):
    model = require(models / name)
    interpreter = qdet.Interpreter(str(model))
    inspected = run_qdet.json("inspect", model)
    tensors = {t["id"]: t for t in inspected["tensors"]}
    assert len(interpreter.get_tensor_details()) == len(tensors)

    def check(details, expected):
        assert [d["index"] for d in details] == [t["id"] for t in expected]
        for d in details:
            t = tensors[d["index"]]
            assert d["name"] == t["name"]
            assert d["shape"].dtype == np.int32
            assert list(d["shape"]) == t["shape"]
            assert np.dtype(d["dtype"]) == np.dtype(t["dtype"])
            qp = d["quantization_parameters"]
            assert qp["scales"].dtype == np.float32 and qp["zero_points"].dtype == np.int32
            q = t["quant"]
            if q is None:
                assert len(qp["scales"]) == 0 and d["quantization"] == (0.0, 0)
            elif "channels" in q:  # per-axis: inspect summarizes
                assert len(qp["scales"]) == q["channels"] and d["quantization"] == (0.0, 0)
                assert qp["quantized_dimension"] == q["axis"]
                assert qp["scales"].min() == np.float32(q["scale_min"])
                assert qp["scales"].max() == np.float32(q["scale_max"])
            else:
                assert d["quantization"] == (np.float32(q["scale"]), q["zero_point"])
                assert list(qp["scales"]) == [np.float32(q["scale"])]
                assert list(qp["zero_points"]) == [q["zero_point"]]

    check(interpreter.get_input_details(), inspected["inputs"])
    check(interpreter.get_output_details(), inspected["outputs"])
    details = interpreter.get_tensor_details()
    check(details, [tensors[i] for i in range(len(tensors))])


def test_output_shapes_after_allocate(models):
    # The SSD's file leaves TFLite_Detection_PostProcess's output shapes empty; the kernel
    # decides them (as TFLite's get_output_details shows after allocate_tensors).
    interpreter = qdet.Interpreter(str(require(models / "ssd_mobilenet_v1_1_metadata_1.tflite")))
    interpreter.allocate_tensors()
    shapes = [list(d["shape"]) for d in interpreter.get_output_details()]
    assert shapes == [[1, 10, 4], [1, 10], [1, 10], [1]]


def test_yolox_details_as_tflite_gives_them(yolox):
    interpreter = qdet.Interpreter(model_path=yolox)
    (inp,) = interpreter.get_input_details()
    (out,) = interpreter.get_output_details()
    assert inp["dtype"] is np.float32
    assert list(inp["shape"]) == [1, 416, 416, 3]
    assert list(out["shape"]) == [1, 3549, 85]
    assert inp["quantization"] == (0.0, 0)
    assert set(inp) == {"name", "index", "shape", "shape_signature", "dtype", "quantization",
                        "quantization_parameters", "sparsity_parameters"}


def test_uint8_input_quantization(models):
    interpreter = qdet.Interpreter(str(require(models / "yolov5n-int8.tflite")))
    (inp,) = interpreter.get_input_details()
    assert inp["dtype"] is np.uint8
    scale, zero_point = inp["quantization"]
    assert scale > 0 and 0 <= zero_point <= 255


def test_threads_and_model_content_give_the_same_outputs(yolox):
    x = np.random.default_rng(3).uniform(0, 255, size=(1, 416, 416, 3)).astype(np.float32)
    outputs = []
    for kwargs in ({"model_path": str(yolox)}, {"model_content": yolox.read_bytes(), "num_threads": 2}):
        it = qdet.Interpreter(**kwargs)
        it.allocate_tensors()
        it.set_tensor(it.get_input_details()[0]["index"], x)
        it.invoke()
        outputs.append(it.get_tensor(it.get_output_details()[0]["index"]))
    np.testing.assert_array_equal(outputs[0], outputs[1])


def test_zero_copy_views(yolox):
    it = qdet.Interpreter(str(yolox))
    it.allocate_tensors()
    inp = it.get_input_details()[0]["index"]
    out = it.get_output_details()[0]["index"]
    x = np.random.default_rng(5).uniform(0, 255, size=(1, 416, 416, 3)).astype(np.float32)
    it.tensor(inp)()[...] = x  # written in place, no set_tensor
    it.invoke()
    view = it.tensor(out)()
    np.testing.assert_array_equal(view, it.get_tensor(out))
    assert not view.flags.writeable
    copy = it.get_tensor(out)
    it.tensor(inp)()[...] = 0
    it.invoke()
    assert not np.array_equal(copy, it.get_tensor(out))  # the copy kept the first result
    np.testing.assert_array_equal(view, it.get_tensor(out))  # the view shows the buffer


def test_set_tensor_checks_type_and_shape(yolox):
    it = qdet.Interpreter(str(yolox))
    it.allocate_tensors()
    index = it.get_input_details()[0]["index"]
    with pytest.raises(ValueError, match="Got value of type FLOAT64 but expected type FLOAT32"):
        it.set_tensor(index, np.zeros((1, 416, 416, 3)))
    with pytest.raises(ValueError, match="Dimension mismatch"):
        it.set_tensor(index, np.zeros((1, 320, 320, 3), np.float32))
    with pytest.raises(ValueError, match="Dimension mismatch"):
        it.set_tensor(index, np.zeros((416, 416, 3), np.float32))
    with pytest.raises(ValueError, match="not an input"):
        it.set_tensor(it.get_output_details()[0]["index"], np.zeros((1, 3549, 85), np.float32))


def test_state_errors(yolox):
    it = qdet.Interpreter(str(yolox))
    with pytest.raises(RuntimeError, match="allocate_tensors"):
        it.invoke()
    with pytest.raises(RuntimeError, match="allocate_tensors"):
        it.get_tensor(it.get_output_details()[0]["index"])
    it.allocate_tensors()
    with pytest.raises(ValueError, match="out of range"):
        it.get_tensor(100000)
    with pytest.raises(ValueError, match="exactly one"):
        qdet.Interpreter()


def test_intermediates_need_preserve_all_tensors(yolox):
    it = qdet.Interpreter(str(yolox))
    it.allocate_tensors()
    details = it.get_tensor_details()
    io = {d["index"] for d in it.get_input_details() + it.get_output_details()}
    # An activation: produced by an op, not an output (constants have data in the graph).
    kept = qdet.Interpreter(str(yolox), experimental_preserve_all_tensors=True)
    kept.allocate_tensors()
    x = np.ones((1, 416, 416, 3), np.float32)
    kept.set_tensor(kept.get_input_details()[0]["index"], x)
    kept.invoke()
    readable = 0
    for d in details:
        if d["index"] in io:
            continue
        try:
            it.get_tensor(d["index"])
        except ValueError as e:
            assert "intermediate" in str(e) or "no data" in str(e)
            try:
                kept.get_tensor(d["index"])
                readable += 1
            except ValueError as e2:
                assert "no data" in str(e2)
    assert readable > 0


def test_resize_tensor_input_runs_a_batch(models):
    """YOLOv5n int8 resized to a batch of 2: each item's outputs equal a run of that image alone."""
    model = require(models / "yolov5n-int8.tflite")
    single = qdet.Interpreter(str(model))
    single.allocate_tensors()
    inp = single.get_input_details()[0]
    out = single.get_output_details()[0]
    rng = np.random.default_rng(3)
    images = [random_input(inp, rng) for _ in range(2)]
    expected = []
    for image in images:
        single.set_tensor(inp["index"], image)
        single.invoke()
        expected.append(single.get_tensor(out["index"]))

    batched = qdet.Interpreter(str(model))
    batched.resize_tensor_input(inp["index"], [2, 640, 640, 3])
    assert list(batched.get_input_details()[0]["shape"]) == [2, 640, 640, 3]  # before allocating, as tf.lite
    batched.allocate_tensors()
    batched.set_tensor(inp["index"], np.concatenate(images))
    batched.invoke()
    got = batched.get_tensor(out["index"])
    assert got.shape == (2,) + expected[0].shape[1:]
    for k in range(2):
        assert got[k].tobytes() == expected[k][0].tobytes()


def test_resize_tensor_input_needs_allocate_and_names_the_op_that_cannot_take_it(yolox):
    it = qdet.Interpreter(str(yolox))
    index = it.get_input_details()[0]["index"]
    it.resize_tensor_input(index, [1, 416, 416, 3])  # the current shape: nothing to do
    it.allocate_tensors()
    it.resize_tensor_input(index, [1, 320, 320, 3])
    with pytest.raises(RuntimeError, match=r"allocate_tensors\(\) after resize_tensor_input"):
        it.invoke()
    # YOLOX's converted file has 416-sized constants (upsample sizes): the plan fails, by op.
    with pytest.raises(ValueError, match=r"op \d+ \(CONCATENATION\)"):
        it.allocate_tensors()
    assert list(it.get_input_details()[0]["shape"]) == [1, 416, 416, 3]  # the last plan's shapes
    it.allocate_tensors()
    it.invoke()
    with pytest.raises(ValueError, match=r"not positive"):
        it.resize_tensor_input(index, [1, 0, 416, 3])
    with pytest.raises(ValueError, match=r"fixed at"):
        it.resize_tensor_input(index, [2, 416, 416, 3], strict=True)


def test_kernels_and_arena(yolox):
    it = qdet.Interpreter(str(yolox))
    assert it.arena_bytes == 0
    it.allocate_tensors()
    assert it.arena_bytes > 0
    kernels = it.kernels()
    assert "xnnpack" in kernels
    ref = qdet.Interpreter(str(yolox), reference_kernels=True)
    ref.allocate_tensors()
    assert "xnnpack" not in ref.kernels()
