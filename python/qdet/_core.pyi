"""Type stubs of qdet's extension module (re-exported by the qdet package)."""

from os import PathLike
from typing import Any, Callable, Dict, Iterable, List, Literal, Optional, Sequence, Tuple, TypedDict, Union

import numpy as np
import numpy.typing as npt

__version__: str

StrPath = Union[str, PathLike[str]]
Image = npt.NDArray[np.uint8]
ProgressArg = Union[Callable[[str, int, int], None], None, bool]

class QuantizationParameters(TypedDict):
    scales: npt.NDArray[np.float32]
    zero_points: npt.NDArray[np.int32]
    quantized_dimension: int

class TensorDetails(TypedDict):
    name: str
    index: int
    shape: npt.NDArray[np.int32]
    shape_signature: npt.NDArray[np.int32]
    dtype: type
    quantization: Tuple[float, int]
    quantization_parameters: QuantizationParameters
    sparsity_parameters: Dict[str, Any]

class Interpreter:
    """tf.lite.Interpreter's methods on qdet's interpreter."""

    def __init__(
        self,
        model_path: Optional[StrPath] = None,
        model_content: Optional[bytes] = None,
        num_threads: Optional[int] = None,
        experimental_preserve_all_tensors: bool = False,
        reference_kernels: bool = False,
    ) -> None: ...
    def allocate_tensors(self) -> None: ...
    def get_input_details(self) -> List[TensorDetails]: ...
    def get_output_details(self) -> List[TensorDetails]: ...
    def get_tensor_details(self) -> List[TensorDetails]: ...
    def resize_tensor_input(self, input_index: int, tensor_size: Sequence[int], strict: bool = False) -> None: ...
    def set_tensor(self, tensor_index: int, value: npt.ArrayLike) -> None: ...
    def invoke(self) -> None: ...
    def get_tensor(self, tensor_index: int) -> npt.NDArray[Any]: ...
    def tensor(self, tensor_index: int) -> Callable[[], npt.NDArray[Any]]: ...
    def get_signature_list(self) -> Dict[str, Any]: ...
    @property
    def num_threads(self) -> int: ...
    @property
    def arena_bytes(self) -> int: ...
    def kernels(self) -> List[str]: ...

class Detection(TypedDict, total=False):
    class_id: int
    name: str
    score: float
    box: Tuple[float, float, float, float]
    category_id: int

class Detector:
    def __init__(
        self,
        model: StrPath,
        *,
        preset: Optional[str] = None,
        sidecar: Optional[StrPath] = None,
        score: Optional[float] = None,
        iou: Optional[float] = None,
        max_det: Optional[int] = None,
        labels: Optional[str] = None,
        num_threads: int = 1,
        reference_kernels: bool = False,
    ) -> None: ...
    def detect(self, image: Union[Image, StrPath]) -> List[Detection]: ...
    @property
    def labels(self) -> List[str]: ...
    @property
    def info(self) -> Dict[str, Any]: ...
    @property
    def last_timing(self) -> Dict[str, float]: ...

def load_image(path: StrPath) -> Image: ...
def save_image(image: Image, path: StrPath) -> None: ...
def coco_labels(by_category_id: bool = False) -> Any: ...
def detect(model: Union[StrPath, Detector], image: Union[Image, StrPath], **settings: Any) -> List[Detection]: ...
def draw(image: Union[Image, StrPath], detections: Iterable[Detection]) -> Image: ...
def data_dir() -> PathLike[str]: ...
def shared_dir() -> PathLike[str]: ...
def quantize(
    model: StrPath,
    output: StrPath,
    *,
    mode: Literal["float", "fp16", "dynamic", "int8", "int16x8"] = "int8",
    calib: Optional[StrPath] = None,
    calib_count: int = 0,
    method: Literal["minmax", "percentile", "mse", "kl"] = "mse",
    percentile: float = 99.99,
    per_tensor: bool = False,
    io: str = "float",
    keep_float: Sequence[str] = (),
    table: Optional[StrPath] = None,
    save_table: Optional[StrPath] = None,
    report: Optional[StrPath] = None,
    preset: Optional[str] = None,
    fallback_macs: float = 0.1,
    float_weights: Literal["fp16", "fp32"] = "fp16",
    weight_rounding: Literal["gptq", "nearest"] = "gptq",
    gptq_images: int = 32,
    compact: bool = True,
    hybrid: bool = False,
    head_aware: bool = True,
    num_threads: int = 1,
    progress: ProgressArg = None,
) -> Dict[str, Any]: ...
def convert(model: StrPath, output: StrPath, *, weights: Optional[StrPath] = None) -> Dict[str, Any]: ...
def evaluate(
    model: StrPath,
    *,
    images: StrPath,
    annotations: StrPath,
    limit: int = 0,
    preset: Optional[str] = None,
    results: Optional[StrPath] = None,
    resume: bool = False,
    num_threads: int = 1,
    score: Optional[float] = None,
    iou: Optional[float] = None,
    max_dets: Optional[int] = None,
    multi_label: Optional[bool] = None,
    clip: Optional[bool] = None,
    keep_postprocess: bool = False,
    progress: ProgressArg = None,
) -> Dict[str, Any]: ...
def bench(
    model: StrPath,
    *,
    num_threads: int = 1,
    warmup: int = 3,
    runs: int = 20,
    energy: Literal["auto", "rapl", "perf", "nvml", "estimate"] = "auto",
    idle: float = 0.5,
    reference_kernels: bool = False,
    profile: bool = False,
    progress: ProgressArg = None,
) -> Dict[str, Any]: ...
def study(
    model: StrPath,
    *,
    images: StrPath,
    annotations: StrPath,
    output: StrPath,
    calib: Optional[StrPath] = None,
    modes: Sequence[str] = ("fp32", "fp16", "dynamic", "int8", "int16x8"),
    num_threads: int = 1,
    limit: int = 0,
    calib_count: int = 0,
    runs: int = 20,
    warmup: int = 3,
    energy: str = "auto",
    pictures: int = 3,
    preset: Optional[str] = None,
    resume: bool = False,
    peers: bool = False,
    onnx: Sequence[StrPath] = (),
    progress: ProgressArg = None,
) -> List[Dict[str, Any]]: ...
