"""Images, labels, the detector and drawing: qdet.load_image, coco_labels, detect, draw."""

import numpy as np
import pytest

import qdet


def test_coco_labels():
    labels = qdet.coco_labels()
    assert len(labels) == 80 and labels[0] == "person" and labels[79] == "toothbrush"
    by_id = qdet.coco_labels(by_category_id=True)
    assert len(by_id) == 80 and by_id[1] == "person" and by_id[90] == "toothbrush" and 12 not in by_id


def test_load_image(dog, tmp_path):
    image = qdet.load_image(dog)
    assert image.dtype == np.uint8 and image.shape == (576, 768, 3)
    assert image.flags.c_contiguous and image.flags.writeable
    # PNG round trip: lossless.
    qdet.save_image(image, tmp_path / "dog.png")
    np.testing.assert_array_equal(qdet.load_image(str(tmp_path / "dog.png")), image)


def test_detect_finds_dog_bicycle_car(yolox, dog):
    detections = qdet.detect(yolox, qdet.load_image(dog))
    names = {d["name"] for d in detections}
    assert {"dog", "bicycle", "car"} <= names, names
    for d in detections:
        assert set(d) == {"class_id", "name", "score", "box", "category_id"}
        assert 0 < d["score"] <= 1
        x0, y0, x1, y1 = d["box"]
        assert 0 <= x0 < x1 <= 768 and 0 <= y0 < y1 <= 576
        assert qdet.coco_labels()[d["class_id"]] == d["name"]
        assert qdet.coco_labels(by_category_id=True)[d["category_id"]] == d["name"]
    scores = [d["score"] for d in detections]
    assert scores == sorted(scores, reverse=True)


def test_detect_equals_the_cli(yolox, dog, run_qdet):
    cli = run_qdet.json("detect", yolox, dog, "--score", "0.25")["detections"]
    detector = qdet.Detector(yolox, score=0.25)
    got = detector.detect(str(dog))  # a path works too
    assert [d["class_id"] for d in got] == [d["class_id"] for d in cli]
    for a, b in zip(got, cli):
        assert a["name"] == b["label"] and a["category_id"] == b["category_id"]
        assert a["score"] == pytest.approx(b["score"], abs=1e-6)
        assert a["box"] == pytest.approx(tuple(b["box"]), abs=1e-3)
    assert detector.info["preset"] == "yolox_nano"
    assert detector.last_timing["inference_ms"] > 0
    assert qdet.detect(detector, qdet.load_image(dog)) == got


def test_settings_override_the_preset(yolox, dog):
    loose = qdet.detect(yolox, dog, score=0.05)
    strict = qdet.detect(yolox, dog, score=0.8)
    assert len(loose) > len(strict)
    assert len(qdet.detect(yolox, dog, score=0.05, max_det=2)) == 2


def test_draw(yolox, dog):
    image = qdet.load_image(dog)
    detections = qdet.detect(yolox, image)
    drawn = qdet.draw(image, detections)
    assert drawn.shape == image.shape and drawn.dtype == np.uint8
    assert not np.array_equal(drawn, image)
    np.testing.assert_array_equal(image, qdet.load_image(dog))  # the input is left alone
    # Drawing touches the boxes' outlines and labels, not the far corner of an empty region.
    changed = np.any(drawn != image, axis=2)
    x0, y0, x1, y1 = (int(v) for v in detections[0]["box"])
    assert changed[y0:y1 + 1, x0:x1 + 1].any()
    # Own names win over COCO's.
    renamed = qdet.draw(image, [dict(detections[0], name="my label")])
    assert not np.array_equal(renamed, qdet.draw(image, detections[:1]))


def test_image_arguments_are_checked(yolox):
    with pytest.raises(ValueError, match="uint8"):
        qdet.detect(yolox, np.zeros((10, 10, 3), np.float32))
    with pytest.raises(ValueError, match="shape"):
        qdet.draw(np.zeros((10,), np.uint8), [])
    with pytest.raises(ValueError, match="box"):
        qdet.draw(np.zeros((10, 10, 3), np.uint8), [{"class_id": 1}])
    gray = qdet.draw(np.zeros((10, 12), np.uint8), [])
    assert gray.shape == (10, 12, 3)
