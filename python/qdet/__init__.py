"""qdet: convert, quantize, run and compare object detectors in TensorFlow Lite, from Python.

A thin layer over qdet's C++ libraries (the same engines as the ``qdet`` command):

* ``qdet.Interpreter``: ``tf.lite.Interpreter``'s methods on qdet's own interpreter;
* ``qdet.load_image``, ``qdet.coco_labels``, ``qdet.Detector``, ``qdet.detect``, ``qdet.draw``;
* ``qdet.quantize``, ``qdet.convert``, ``qdet.evaluate``, ``qdet.bench``, ``qdet.study``:
  the long tasks, with progress (a callback, or tqdm when installed) and Ctrl-C.

Errors raise ValueError (bad values, corrupt files), FileNotFoundError (missing paths),
OSError (other I/O), NotImplementedError (what qdet does not support) or RuntimeError, each
with qdet's one-line message.

    import qdet
    image = qdet.load_image("dog.jpg")
    detections = qdet.detect("yolox_nano_fp32_416.tflite", image)
    print([(d["name"], round(d["score"], 2)) for d in detections])
    picture = qdet.draw(image, detections)
"""

from ._core import (  # noqa: F401
    Detector,
    Interpreter,
    __version__,
    bench,
    coco_labels,
    convert,
    data_dir,
    detect,
    draw,
    evaluate,
    load_image,
    quantize,
    save_image,
    shared_dir,
    study,
)
from ._progress import __doc__ as progress_help  # noqa: F401

__all__ = [
    "Detector",
    "Interpreter",
    "__version__",
    "bench",
    "coco_labels",
    "convert",
    "data_dir",
    "detect",
    "draw",
    "evaluate",
    "load_image",
    "progress_help",
    "quantize",
    "save_image",
    "shared_dir",
    "study",
]
