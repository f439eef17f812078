// qdet.Interpreter: tf.lite.Interpreter's surface over qdet's runtime (runtime/interpreter.h).
//
// Where data is copied:
//   set_tensor   copies the array into the interpreter's input buffer (as TFLite does: the
//                buffer belongs to the interpreter's arena);
//   get_tensor   copies the tensor out (as TFLite does: the next invoke() overwrites it);
//   tensor(i)()  no copy: a numpy view of the buffer, valid until the next allocate_tensors();
//                the view keeps that plan's memory alive, so a stale view never dangles.
#include <fmt/ranges.h>
#include <pybind11/numpy.h>

#include <cstring>
#include <map>
#include <memory>
#include <mutex>
#include <optional>

#include "common.h"
#include "runtime/interpreter.h"
#include "tensor/dtype.h"
#include "tflite/reader.h"

namespace qdet::py {
namespace {

pb::dtype numpy_dtype(DType d) {
  switch (d) {
    case DType::kFloat32: return pb::dtype("float32");
    case DType::kFloat16: return pb::dtype("float16");
    case DType::kInt8: return pb::dtype("int8");
    case DType::kUInt8: return pb::dtype("uint8");
    case DType::kInt16: return pb::dtype("int16");
    case DType::kInt32: return pb::dtype("int32");
    case DType::kInt64: return pb::dtype("int64");
    case DType::kBool: return pb::dtype("bool");
    default: break;
  }
  throw StatusError{unsupported("tensor type {} has no numpy equivalent", dtype_name(d))};
}

// TFLite's upper-case type names, as its error messages print them.
std::string upper(std::string s) {
  for (char& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}

pb::array_t<int32_t> shape_array(const Shape& shape) {
  pb::array_t<int32_t> a(static_cast<pb::ssize_t>(shape.size()));
  for (size_t i = 0; i < shape.size(); ++i) a.mutable_at(i) = shape[i];
  return a;
}

std::vector<pb::ssize_t> numpy_shape(const Shape& shape) { return {shape.begin(), shape.end()}; }

class PyInterpreter {
 public:
  PyInterpreter(std::optional<std::filesystem::path> model_path, std::optional<pb::bytes> model_content,
                std::optional<int> num_threads, bool preserve_all_tensors, bool reference_kernels) {
    if (model_path.has_value() == model_content.has_value())
      throw StatusError{invalid_argument("give exactly one of model_path and model_content")};
    graph::Model model;
    if (model_path) {
      require_file(*model_path, "model");
      pb::gil_scoped_release nogil;
      model = take(tflite::load_tflite(*model_path));
    } else {
      const std::string_view bytes = *model_content;
      pb::gil_scoped_release nogil;
      model = take(tflite::read_tflite(
          std::span(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()), "model_content"));
    }
    name_ = model_path ? model_path->string() : "model_content";
    graph_ = std::make_shared<const graph::Graph>(std::move(model.graph));
    options_.num_threads = num_threads.value_or(1);
    if (options_.num_threads < 1)
      throw StatusError{invalid_argument("num_threads must be at least 1 (got {})", options_.num_threads)};
    options_.keep_intermediates = preserve_all_tensors;
    options_.use_fast_kernels = !reference_kernels;
  }

  // A new plan each time (a new rt::Interpreter with the requested input shapes), so numpy views
  // of the last plan's buffers stay valid: they hold the old interpreter alive.
  void allocate_tensors() {
    std::unique_lock lock = busy_lock("allocate_tensors");
    pb::gil_scoped_release nogil;
    auto created = rt::Interpreter::create(graph_, options_);
    if (!created.ok()) throw StatusError{created.status().with_context(name_)};
    std::shared_ptr<rt::Interpreter> next(std::move(created).value());
    if (!resized_.empty()) {
      for (const auto& [i, shape] : resized_) {
        const Status s = next->resize_input(i, shape);
        if (!s.ok()) throw StatusError{s.with_context(name_)};
      }
      const Status s = next->allocate_tensors();
      if (!s.ok()) {
        resized_ = planned_;  // back to the shapes of the last plan, as the runtime does
        throw StatusError{s.with_context(name_)};
      }
    }
    interp_ = std::move(next);
    planned_ = resized_;
    stale_ = false;
  }

  pb::list get_input_details() const {
    pb::list l;
    for (int32_t id : graph_->inputs) l.append(details(id));
    return l;
  }
  pb::list get_output_details() const {
    pb::list l;
    for (int32_t id : graph_->outputs) l.append(details(id));
    return l;
  }
  pb::list get_tensor_details() const {
    pb::list l;
    for (size_t id = 0; id < graph_->tensors.size(); ++id) l.append(details(static_cast<int32_t>(id)));
    return l;
  }

  // tf.lite's ResizeInputTensor: the shape takes effect at the next allocate_tensors(); until
  // then set_tensor / invoke / get_tensor refuse to run.
  void resize_tensor_input(int input_index, const pb::object& tensor_size, bool strict) {
    std::unique_lock lock = busy_lock("resize_tensor_input");
    const size_t i = input_position(input_index);
    Shape wanted;
    for (const auto& d : pb::iter(tensor_size)) wanted.push_back(d.cast<int32_t>());
    const Shape current = current_shape(graph_->inputs[i]);
    if (wanted == current) return;
    for (size_t d = 0; d < wanted.size(); ++d)
      if (wanted[d] <= 0)
        throw StatusError{invalid_argument("resize_tensor_input: dimension {} of {} is not positive", d,
                                           shape_to_string(wanted))};
    if (strict) {
      // tf.lite: with strict, only dims the signature leaves unknown (-1) may change; a file
      // without a signature has none.
      const graph::Tensor& t = graph_->tensors[graph_->inputs[i]];
      const Shape& sig = t.shape_signature.empty() ? t.shape : t.shape_signature;
      if (sig.size() != wanted.size())
        throw StatusError{invalid_argument("resize_tensor_input(strict=True): input {} has {} dims (got {})",
                                           input_index, sig.size(), wanted.size())};
      for (size_t d = 0; d < wanted.size(); ++d)
        if (sig[d] != -1 && sig[d] != wanted[d])
          throw StatusError{invalid_argument(
              "resize_tensor_input(strict=True): dimension {} of input {} is fixed at {} (got {})", d,
              input_index, sig[d], wanted[d])};
    }
    if (wanted == graph_->tensors[graph_->inputs[i]].shape)
      resized_.erase(i);
    else
      resized_[i] = wanted;
    stale_ = true;
  }

  void set_tensor(int tensor_index, const pb::object& value) {
    const size_t i = input_position(tensor_index, "set_tensor");
    std::unique_lock lock = busy_lock("set_tensor");
    rt::TensorRef& t = allocated("set_tensor").input(i);
    const pb::dtype want = numpy_dtype(t.dtype);
    pb::array a = pb::array::ensure(value);
    if (!a) throw StatusError{invalid_argument("Cannot set tensor: value is not array-like")};
    const std::string name = graph_->tensors[t.id].name;
    if (!a.dtype().equal(want))
      throw StatusError{invalid_argument(
          "Cannot set tensor: Got value of type {} but expected type {} for input {}, name: {}",
          upper(pb::str(a.dtype()).cast<std::string>()), upper(dtype_name(t.dtype)), tensor_index, name)};
    if (static_cast<size_t>(a.ndim()) != t.shape.size())
      throw StatusError{invalid_argument("Cannot set tensor: Dimension mismatch. Got {} but expected {} for input {}.",
                                         a.ndim(), t.shape.size(), tensor_index)};
    for (size_t d = 0; d < t.shape.size(); ++d)
      if (a.shape(d) != t.shape[d])
        throw StatusError{invalid_argument(
            "Cannot set tensor: Dimension mismatch. Got {} but expected {} for dimension {} of input {}.",
            a.shape(d), t.shape[d], d, tensor_index)};
    // One copy into the interpreter's buffer (a non-contiguous array is made contiguous first).
    pb::array c = pb::array::ensure(a, pb::array::c_style);
    if (t.byte_size() > 0) std::memcpy(t.data, c.data(), t.byte_size());
  }

  void invoke() {
    pb::gil_scoped_release nogil;  // other Python threads run while the model does
    std::lock_guard lock(mu_);
    if (!interp_) throw std::runtime_error("invoke(): call allocate_tensors() first");
    if (stale_) throw std::runtime_error("invoke(): call allocate_tensors() after resize_tensor_input()");
    const Status s = interp_->invoke();
    if (!s.ok()) throw StatusError{s.with_context(name_)};
  }

  pb::array get_tensor(int tensor_index) {
    std::unique_lock lock = busy_lock("get_tensor");
    const rt::TensorRef& t = readable(tensor_index, "get_tensor");
    pb::array out(numpy_dtype(t.dtype), numpy_shape(t.shape));
    if (t.byte_size() > 0) std::memcpy(out.mutable_data(), t.data, t.byte_size());
    return out;
  }

  // tf.lite's zero-copy access: a function returning a numpy view of the tensor's buffer.
  pb::cpp_function tensor(pb::object self, int tensor_index) {
    {
      std::unique_lock lock = busy_lock("tensor");
      readable(tensor_index, "tensor");
    }
    return pb::cpp_function([self, tensor_index]() -> pb::array {
      PyInterpreter& me = self.cast<PyInterpreter&>();
      std::unique_lock lock = me.busy_lock("tensor");
      const rt::TensorRef& t = me.readable(tensor_index, "tensor");
      // The view's owner holds this plan's interpreter (and so its arena) alive.
      auto* keep = new std::shared_ptr<rt::Interpreter>(me.interp_);
      pb::capsule owner(keep, [](void* p) { delete static_cast<std::shared_ptr<rt::Interpreter>*>(p); });
      pb::array view(numpy_dtype(t.dtype), numpy_shape(t.shape), {}, t.data, owner);
      const bool is_input = std::find(me.graph_->inputs.begin(), me.graph_->inputs.end(), t.id) !=
                            me.graph_->inputs.end();
      if (!is_input || t.is_constant) view.attr("setflags")(pb::arg("write") = false);
      return view;
    });
  }

  pb::dict get_signature_list() const { return pb::dict(); }

  int num_threads() const { return options_.num_threads; }
  size_t arena_bytes() const { return interp_ ? interp_->arena_bytes() : 0; }

  // Which implementation runs each op (xnnpack, reference, folded, ...), after allocate_tensors.
  pb::list kernels() {
    std::unique_lock lock = busy_lock("kernels");
    const rt::Interpreter& it = allocated("kernels");
    pb::list l;
    for (size_t i = 0; i < graph_->ops.size(); ++i) l.append(pb::str(it.kernel_name(i)));
    return l;
  }

 private:
  // set/get from another thread while invoke() runs are refused rather than raced.
  std::unique_lock<std::mutex> busy_lock(const char* what) {
    std::unique_lock lock(mu_, std::try_to_lock);
    if (!lock.owns_lock())
      throw std::runtime_error(fmt::format("{}: the interpreter is busy (invoke() is running in another thread)", what));
    return lock;
  }

  rt::Interpreter& allocated(const char* what) {
    if (!interp_) throw std::runtime_error(fmt::format("{}(): call allocate_tensors() first", what));
    if (stale_)
      throw std::runtime_error(fmt::format("{}(): call allocate_tensors() after resize_tensor_input()", what));
    return *interp_;
  }

  size_t input_position(int tensor_index, const char* what = "resize_tensor_input") const {
    for (size_t i = 0; i < graph_->inputs.size(); ++i)
      if (graph_->inputs[i] == tensor_index) return i;
    throw StatusError{invalid_argument("{}: tensor {} is not an input of the model (inputs: {})", what,
                                       tensor_index, fmt::join(graph_->inputs, ", "))};
  }

  void check_index(int tensor_index) const {
    if (tensor_index < 0 || static_cast<size_t>(tensor_index) >= graph_->tensors.size())
      throw StatusError{invalid_argument("tensor index {} out of range (the model has {} tensors)", tensor_index,
                                         graph_->tensors.size())};
  }

  // Inputs, outputs and constants always; other tensors only with preserve_all_tensors (their
  // memory is reused by later ops otherwise).
  const rt::TensorRef& readable(int tensor_index, const char* what) {
    check_index(tensor_index);
    const rt::TensorRef& t = allocated(what).tensor(tensor_index);
    const auto& g = *graph_;
    const bool io = std::find(g.inputs.begin(), g.inputs.end(), tensor_index) != g.inputs.end() ||
                    std::find(g.outputs.begin(), g.outputs.end(), tensor_index) != g.outputs.end();
    if (!io && !t.is_constant && !options_.keep_intermediates)
      throw StatusError{invalid_argument(
          "{}: tensor {} ('{}') is an intermediate: its memory is reused; create the Interpreter with "
          "experimental_preserve_all_tensors=True to read it",
          what, tensor_index, g.tensors[tensor_index].name)};
    if (!t.data && t.byte_size() > 0)
      throw StatusError{invalid_argument("{}: tensor {} ('{}') has no data (not used by any op)", what,
                                         tensor_index, g.tensors[tensor_index].name)};
    return t;
  }

  // An input's requested shape (resize_tensor_input) before the plan that applies it; otherwise
  // the shape of the last plan, or the file's before any.
  Shape current_shape(int32_t id) const {
    for (size_t i = 0; i < graph_->inputs.size(); ++i)
      if (graph_->inputs[i] == id && resized_.count(i)) return resized_.at(i);
    return interp_ ? interp_->tensor(id).shape : graph_->tensors[id].shape;
  }

  pb::dict details(int32_t id) const {
    check_index(id);
    const graph::Tensor& t = graph_->tensors[id];
    pb::dict d;
    d["name"] = t.name;
    d["index"] = id;
    d["shape"] = shape_array(current_shape(id));
    d["shape_signature"] = shape_array(t.shape_signature.empty() ? t.shape : t.shape_signature);
    d["dtype"] = numpy_dtype(t.dtype).attr("type");
    const QuantParams& q = t.quant;
    if (q.scale.size() == 1)
      d["quantization"] = pb::make_tuple(q.scale[0], q.zero_point.empty() ? 0 : q.zero_point[0]);
    else
      d["quantization"] = pb::make_tuple(0.0, 0);
    pb::array_t<float> scales(static_cast<pb::ssize_t>(q.scale.size()));
    for (size_t i = 0; i < q.scale.size(); ++i) scales.mutable_at(i) = q.scale[i];
    pb::array_t<int32_t> zero_points(static_cast<pb::ssize_t>(q.zero_point.size()));
    for (size_t i = 0; i < q.zero_point.size(); ++i) zero_points.mutable_at(i) = static_cast<int32_t>(q.zero_point[i]);
    pb::dict qp;
    qp["scales"] = scales;
    qp["zero_points"] = zero_points;
    qp["quantized_dimension"] = q.quantized_dimension;
    d["quantization_parameters"] = qp;
    d["sparsity_parameters"] = pb::dict();
    return d;
  }

  std::string name_;
  std::shared_ptr<const graph::Graph> graph_;
  rt::InterpreterOptions options_;
  std::shared_ptr<rt::Interpreter> interp_;  // null until allocate_tensors()
  std::map<size_t, Shape> resized_;          // input position -> requested shape (differs from the file's)
  std::map<size_t, Shape> planned_;          // resized_ as interp_ was planned with it
  bool stale_ = false;                       // resize_tensor_input() since the last plan
  std::mutex mu_;
};

}  // namespace

void bind_interpreter(pb::module_& m) {
  pb::class_<PyInterpreter>(m, "Interpreter", R"doc(
A TFLite model run by qdet's own interpreter, with tf.lite.Interpreter's methods:
porting a notebook is changing ``tf.lite.Interpreter`` to ``qdet.Interpreter``.

    interpreter = qdet.Interpreter(model_path="yolox_nano_fp32_416.tflite")
    interpreter.allocate_tensors()
    inp = interpreter.get_input_details()[0]
    interpreter.set_tensor(inp["index"], batch.astype(inp["dtype"]))
    interpreter.invoke()                      # releases the GIL
    out = interpreter.get_tensor(interpreter.get_output_details()[0]["index"])

set_tensor copies the array into the interpreter and get_tensor copies the tensor out (as
TFLite does); tensor(i) returns a function giving a numpy view without a copy. Results do not
depend on num_threads. One Interpreter is used by one thread at a time; separate Interpreters
run in parallel threads.
)doc")
      .def(pb::init<std::optional<std::filesystem::path>, std::optional<pb::bytes>, std::optional<int>, bool, bool>(),
           pb::arg("model_path") = pb::none(), pb::arg("model_content") = pb::none(),
           pb::arg("num_threads") = pb::none(), pb::arg("experimental_preserve_all_tensors") = false,
           pb::arg("reference_kernels") = false,
           R"doc(Loads and verifies a .tflite model (a path, or its bytes as model_content).

num_threads: interpreter threads (default 1). experimental_preserve_all_tensors: keep every
intermediate tensor readable with get_tensor (more memory). reference_kernels: run qdet's
reference kernels only (no XNNPACK). A missing file raises FileNotFoundError, a corrupt one
ValueError, an op qdet cannot run NotImplementedError (at allocate_tensors).)doc")
      .def("allocate_tensors", &PyInterpreter::allocate_tensors,
           "Plans the model (kernels, memory). Call before set_tensor / invoke / get_tensor.")
      .def("get_input_details", &PyInterpreter::get_input_details,
           "One dict per input: name, index, shape, shape_signature, dtype (a numpy type), quantization "
           "(scale, zero_point), quantization_parameters (scales, zero_points, quantized_dimension), "
           "sparsity_parameters.")
      .def("get_output_details", &PyInterpreter::get_output_details, "Like get_input_details, for the outputs.")
      .def("get_tensor_details", &PyInterpreter::get_tensor_details, "Like get_input_details, for every tensor.")
      .def("resize_tensor_input", &PyInterpreter::resize_tensor_input, pb::arg("input_index"),
           pb::arg("tensor_size"), pb::arg("strict") = false,
           "Changes an input's shape, as TFLite's ResizeInputTensor: it takes effect at the next "
           "allocate_tensors(), which prepares every op at the new shapes (an op that cannot take them "
           "raises ValueError naming it, and the last shapes stay). strict=True changes only the dims "
           "shape_signature marks -1.")
      .def("set_tensor", &PyInterpreter::set_tensor, pb::arg("tensor_index"), pb::arg("value"),
           "Copies a numpy array into an input tensor; its dtype and shape must match exactly (ValueError).")
      .def("invoke", &PyInterpreter::invoke,
           "Runs the model once. The GIL is released meanwhile, so other threads (and other "
           "Interpreters) run concurrently.")
      .def("get_tensor", &PyInterpreter::get_tensor, pb::arg("tensor_index"),
           "A copy of a tensor (inputs, outputs and constants; any tensor with "
           "experimental_preserve_all_tensors).")
      .def(
          "tensor",
          [](pb::object self, int tensor_index) { return self.cast<PyInterpreter&>().tensor(self, tensor_index); },
          pb::arg("tensor_index"),
          "A function returning a numpy view of the tensor's buffer, without a copy (writeable for inputs). "
          "Take a fresh view after allocate_tensors(); an old one shows the previous plan's memory.")
      .def("get_signature_list", &PyInterpreter::get_signature_list,
           "Signature runners are not supported: always an empty dict.")
      .def_property_readonly("num_threads", &PyInterpreter::num_threads)
      .def_property_readonly("arena_bytes", &PyInterpreter::arena_bytes,
                             "Bytes of the activation arena (0 before allocate_tensors).")
      .def("kernels", &PyInterpreter::kernels,
           "Which implementation runs each op, in op order ('xnnpack', 'reference', 'folded', ...).");
}

}  // namespace qdet::py
