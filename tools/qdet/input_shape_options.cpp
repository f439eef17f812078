// --input-shape / --input-size / --batch, shared by run, bench, detect, eval and study.
#include "command.h"

namespace qdet::cli {

std::vector<CLI::Option*> add_input_shape_options(CLI::App* sub, rt::InputShapeRequest& request, bool with_batch) {
  auto* shape = sub->add_option("--input-shape", request.shape,
                                "Run at this input shape, e.g. 1,320,320,3 (the model's input 0 "
                                "resized; TFLite's resize_tensor_input)")
                    ->delimiter(',');
  auto* size = sub->add_option_function<std::string>(
      "--input-size",
      [&request](const std::string& text) {
        auto parsed = rt::parse_input_size(text);
        if (!parsed.ok()) throw CLI::ValidationError("--input-size", parsed.status().message());
        request.width = parsed->width;
        request.height = parsed->height;
      },
      "Run an image model at N x N or WxH pixels (the preset's letterbox follows)");
  size->excludes(shape);
  std::vector<CLI::Option*> added = {shape, size};
  if (with_batch)
    added.push_back(sub->add_option("--batch", request.batch, "Images per invoke (the input's dim 0)")
                        ->check(CLI::Range(1, 4096)));
  return added;
}

}  // namespace qdet::cli
