// The extension module qdet._core; the package qdet (python/qdet/__init__.py) re-exports it.
#include "base/paths.h"
#include "common.h"

namespace qdet::py {
void bind_interpreter(pb::module_& m);
void bind_pipeline(pb::module_& m);
void bind_tasks(pb::module_& m);
}  // namespace qdet::py

PYBIND11_MODULE(_core, m) {
  m.doc() = "qdet's C++ libraries: interpreter, detector, quantizer, converter, COCO evaluation, benchmark, study.";
  m.attr("__version__") = qdet::version_string();
  qdet::py::register_exceptions(m);
  qdet::py::bind_interpreter(m);
  qdet::py::bind_pipeline(m);
  qdet::py::bind_tasks(m);
}
