"""The long tasks equal their CLI commands; progress, Ctrl-C and no partial files."""

import json
import os
import signal

import pytest

import qdet
from conftest import require


def test_evaluate_20_images_equals_qdet_eval(yolox, val, run_qdet):
    calls = []
    got = qdet.evaluate(yolox, images=val["images"], annotations=val["annotations"], limit=20,
                        progress=lambda stage, done, total: calls.append((stage, done, total)))
    cli = run_qdet.json("eval", yolox, "--images", val["images"], "--annotations", val["annotations"],
                        "--limit", 20)
    assert list(got["stats"]) == ["AP", "AP50", "AP75", "APs", "APm", "APl",
                                  "AR1", "AR10", "AR100", "ARs", "ARm", "ARl"]
    assert list(got["stats"].values()) == cli["stats"] == got["stats_list"]
    assert got["per_category"] == cli["per_category"]
    assert got["per_class_ap"] == {name: c["AP"] for name, c in cli["per_category"].items()}
    assert got["settings"] == cli["settings"]
    for key in ("images", "failed_images", "detections", "preset", "notes"):
        assert got[key] == cli[key], key
    assert got["images"] == 20 and 0.2 < got["stats"]["AP"] < 0.6
    # One report per image, then done.
    assert calls[-1] == ("evaluating", 20, 20) and len(calls) >= 20


def test_quantize_writes_what_qdet_quantize_writes(yolox, tmp_path, run_qdet):
    for mode in ("fp16", "dynamic"):
        out = tmp_path / f"py_{mode}.tflite"
        r = qdet.quantize(yolox, out, mode=mode, progress=False)
        run_qdet("quantize", yolox, "--mode", mode, "-o", tmp_path / f"cli_{mode}.tflite")
        assert out.read_bytes() == (tmp_path / f"cli_{mode}.tflite").read_bytes(), mode
        assert r["output"] == out and r["bytes"] == out.stat().st_size
        assert r["size_ratio"] < 0.6
    assert qdet.detect(tmp_path / "py_fp16.tflite", qdet.data_dir() / "models" / "dog.jpg")


def test_quantize_int8_with_calibration(yolox, calib, tmp_path):
    stages = set()
    r = qdet.quantize(yolox, tmp_path / "int8.tflite", mode="int8", calib=calib, calib_count=4,
                      gptq_images=2, fallback_macs=0, progress=lambda s, d, t: stages.add(s))
    assert "calibrating" in stages
    assert r["table"] == tmp_path / "int8.calib.json" and (tmp_path / "int8.calib.json").exists()
    assert r["float_ops"]  # the decode tail stays float
    it = qdet.Interpreter(str(tmp_path / "int8.tflite"))
    it.allocate_tensors()
    assert "int8" in {str(d["dtype"].__name__) for d in it.get_tensor_details()}


def test_convert_equals_qdet_convert(models, tmp_path, run_qdet):
    onnx = require(models / "yolox_nano_416.onnx")
    r = qdet.convert(onnx, tmp_path / "py.tflite")
    cli = run_qdet.json("convert", onnx, "-o", tmp_path / "cli.tflite")
    assert (tmp_path / "py.tflite").read_bytes() == (tmp_path / "cli.tflite").read_bytes()
    for key in ("format", "num_ops", "op_counts", "inputs", "outputs", "description"):
        assert r[key] == cli[key], key


def test_bench(yolox):
    lines = []
    r = qdet.bench(yolox, runs=3, warmup=1, energy="estimate",
                   progress=lambda s, d, t: lines.append(s))
    assert r["latency_ms"]["runs"] == 3 and len(r["latency_ms"]["samples"]) == 3
    assert r["latency_ms"]["median"] > 0 and r["energy"]["method"] == "estimate"
    assert r["size"]["file_bytes"] == yolox.stat().st_size
    assert any(line.startswith("warm-up") for line in lines)


def test_study_returns_the_records_of_results_json(yolox, val, tmp_path):
    out = tmp_path / "study"
    records = qdet.study(yolox, images=val["images"], annotations=val["annotations"], output=out,
                         modes=["fp32", "fp16"], limit=3, runs=2, warmup=0, energy="estimate", pictures=1,
                         progress=False)
    assert [r["variant"] for r in records] == ["fp32", "fp16"]
    on_disk = json.loads((out / "results.json").read_text())["variants"]
    assert records == on_disk
    assert len(records[0]["coco"]["stats"]) == 12 and records[0]["coco"]["images"] == 3
    assert (out / "index.html").exists() and (out / "fp16.tflite").exists()


def interrupt_at(n):
    """A progress callback that delivers SIGINT (as Ctrl-C does) at the n-th report."""

    def progress(stage, done, total):
        if done == n:
            os.kill(os.getpid(), signal.SIGINT)

    return progress


def test_ctrl_c_stops_evaluate_without_a_results_file_and_resume_continues(yolox, val, tmp_path):
    results = tmp_path / "dt.json"
    args = dict(images=val["images"], annotations=val["annotations"], limit=10, results=results)
    with pytest.raises(KeyboardInterrupt):
        qdet.evaluate(yolox, progress=interrupt_at(4), **args)
    assert not results.exists()  # written only at the end
    journal = tmp_path / "dt.json.progress.jsonl"
    assert journal.exists()  # what resume continues from
    resumed = qdet.evaluate(yolox, resume=True, progress=False, **args)
    assert resumed["resumed_images"] >= 1 and results.exists() and not journal.exists()
    fresh = qdet.evaluate(yolox, images=val["images"], annotations=val["annotations"], limit=10, progress=False)
    assert resumed["stats"] == fresh["stats"]


def test_ctrl_c_stops_quantize_without_any_file(yolox, calib, tmp_path):
    out = tmp_path / "int8.tflite"
    with pytest.raises(KeyboardInterrupt):
        qdet.quantize(yolox, out, mode="int8", calib=calib, calib_count=4, progress=interrupt_at(2))
    assert list(tmp_path.iterdir()) == []


def test_a_callback_exception_stops_the_call(yolox, val):
    class Stop(Exception):
        pass

    def progress(stage, done, total):
        raise Stop(stage)

    with pytest.raises(Stop):
        qdet.evaluate(yolox, images=val["images"], annotations=val["annotations"], limit=5, progress=progress)
    with pytest.raises(TypeError):
        qdet.evaluate(yolox, images=val["images"], annotations=val["annotations"], limit=5, progress=3)


def test_ctrl_c_stops_a_study_while_quantizing(yolox, val, calib, tmp_path):
    out = tmp_path / "study"
    seen = []

    def progress(stage, done, total):
        seen.append(stage)
        interrupt_at(2)(stage, done, total)

    with pytest.raises(KeyboardInterrupt):
        qdet.study(yolox, images=val["images"], annotations=val["annotations"], calib=calib, output=out,
                   modes=["int8"], calib_count=4, limit=2, runs=1, warmup=0, energy="estimate", pictures=0,
                   progress=progress)
    assert "calibrating" in seen  # the quantizer's own stages reach the callback
    assert not (out / "int8.tflite").exists() and not (out / "int8.done").exists()
    assert not (out / "results.json").exists()
