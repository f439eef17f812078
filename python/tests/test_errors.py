"""Bad paths and corrupt files raise the right exception with qdet's one-line message; nothing
crashes the interpreter (a crash would end this pytest process)."""

import numpy as np
import pytest

import qdet


def one_line(e):
    text = str(e.value)
    assert text and "\n" not in text
    return text


def test_missing_paths_raise_file_not_found(tmp_path, yolox, val):
    missing = tmp_path / "missing.tflite"
    for call in (
        lambda: qdet.Interpreter(model_path=missing),
        lambda: qdet.load_image(tmp_path / "missing.jpg"),
        lambda: qdet.detect(missing, np.zeros((8, 8, 3), np.uint8)),
        lambda: qdet.detect(yolox, tmp_path / "missing.jpg"),
        lambda: qdet.quantize(missing, tmp_path / "out.tflite", mode="fp16"),
        lambda: qdet.quantize(yolox, tmp_path / "out.tflite", mode="int8", calib=tmp_path / "nope"),
        lambda: qdet.convert(tmp_path / "missing.onnx", tmp_path / "out.tflite"),
        lambda: qdet.evaluate(yolox, images=val["images"], annotations=tmp_path / "missing.json"),
        lambda: qdet.evaluate(yolox, images=tmp_path / "nope", annotations=val["annotations"]),
        lambda: qdet.bench(missing),
    ):
        with pytest.raises(FileNotFoundError) as e:
            call()
        assert "not found" in one_line(e)
    assert list(tmp_path.iterdir()) == []


def test_corrupt_model_files_raise_value_error(tmp_path, yolox):
    data = yolox.read_bytes()
    cases = {
        "empty": b"",
        "text": b"this is not a model\n" * 10,
        "random": np.random.default_rng(1).integers(0, 256, 4096, dtype=np.uint8).tobytes(),
    }
    for cut in (16, 100, 1000, len(data) // 2, len(data) - 1):
        cases[f"truncated_{cut}"] = data[:cut]
    for name, content in cases.items():
        path = tmp_path / f"{name}.tflite"
        path.write_bytes(content)
        with pytest.raises(ValueError) as e:
            qdet.Interpreter(model_path=path).allocate_tensors()
        assert str(path) in one_line(e), name
        with pytest.raises(ValueError):
            qdet.Interpreter(model_content=content)
        with pytest.raises(ValueError):
            qdet.detect(path, np.zeros((8, 8, 3), np.uint8))
        with pytest.raises(ValueError):
            qdet.bench(path, runs=1, warmup=0, energy="estimate", progress=False)


def test_corrupt_image_and_annotations(tmp_path, yolox, val, dog):
    bad = tmp_path / "bad.jpg"
    bad.write_bytes(dog.read_bytes()[:200])
    with pytest.raises(ValueError) as e:
        qdet.load_image(bad)
    assert str(bad) in one_line(e)
    (tmp_path / "noise.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * 64)
    with pytest.raises(ValueError):
        qdet.load_image(tmp_path / "noise.png")
    broken = tmp_path / "broken.json"
    broken.write_text('{"images": [')
    with pytest.raises(ValueError) as e:
        qdet.evaluate(yolox, images=val["images"], annotations=broken)
    one_line(e)


def test_bad_values_raise_value_error(tmp_path, yolox, models):
    with pytest.raises(ValueError, match="mode"):
        qdet.quantize(yolox, tmp_path / "out.tflite", mode="int4")
    with pytest.raises(ValueError, match="preset"):
        qdet.Detector(yolox, preset="no_such_preset")
    with pytest.raises(ValueError, match="differ"):
        qdet.quantize(yolox, yolox, mode="fp16")
    bad_onnx = tmp_path / "bad.onnx"
    bad_onnx.write_bytes(b"\x08\x07garbage")
    with pytest.raises(ValueError):
        qdet.convert(bad_onnx, tmp_path / "out.tflite")
    assert not (tmp_path / "out.tflite").exists()
    with pytest.raises(ValueError):
        qdet.Interpreter(model_path=yolox, num_threads=0)
