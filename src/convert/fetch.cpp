#include "convert/fetch.h"

#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "base/file.h"
#include "convert/sha256.h"

extern char** environ;

namespace qdet::convert {
namespace {

// The ../shared/data copies were taken from these pinned sources; their SHA256SUMS are the
// checksums here. Darknet weights without a published checksum are checked by exact size
// (the byte count the matching .cfg needs).
const std::vector<FetchEntry>& catalog() {
  static const std::vector<FetchEntry> entries = {
      {"yolox-nano-onnx",
       "YOLOX-Nano 416 ONNX (opset 11), raw grid outputs [1,3549,85]; convert with qdet convert",
       "Megvii YOLOX release 0.1.1rc0 (Apache-2.0); pinned copy Bigisland1729/object-detection-models 7f3f2fa",
       {{"yolox_nano.onnx",
         {"https://github.com/Megvii-BaseDetection/YOLOX/releases/download/0.1.1rc0/yolox_nano.onnx",
          "https://github.com/Bigisland1729/object-detection-models/raw/7f3f2fa/yolox_nano.onnx"},
         "e8af074932d4ed7e232278e3055cefcdea3edf178874a3694ae292649fb464dd",
         0}}},
      {"yolox-nano-tflite",
       "YOLOX-Nano 416 TFLite float32 with the decode tail, [1,3549,85] decoded",
       "SyedFarhan110/tflite-models 5b25aab (YOLOX: Megvii, Apache-2.0)",
       {{"yolox_nano_fp32_416.tflite",
         {"https://github.com/SyedFarhan110/tflite-models/raw/5b25aab/yolox_nano.tflite"},
         "38dc5c7897245f2a3e901950090e5e952c9e645ba82a1c50bff2def8c750716d",
         0}}},
      {"ssd-mobilenet-v1-tflite",
       "SSD MobileNet V1 quantized TFLite with TFLite_Detection_PostProcess and label-map metadata",
       "TF Hub tensorflow/lite-model/ssd_mobilenet_v1/1/metadata/1 (Apache-2.0)",
       {{"ssd_mobilenet_v1_1_metadata_1.tflite",
         {"https://tfhub.dev/tensorflow/lite-model/ssd_mobilenet_v1/1/metadata/1?lite-format=tflite"},
         "df027205054d6fd9af22337dd27010fb03701c9d9b122a54468a03c5078db64f",
         0}}},
      {"ssd-mobilenet-v2-tflite",
       "SSD MobileNet V2 COCO TFLite (uint8, with TFLite_Detection_PostProcess), the study's SSD family",
       "google-coral/test_data (Apache-2.0); no published checksum: qdet prints the SHA-256 to pin with --sha256",
       {{"ssd_mobilenet_v2_coco_quant_postprocess.tflite",
         {"https://github.com/google-coral/test_data/raw/master/ssd_mobilenet_v2_coco_quant_postprocess.tflite"},
         "",
         0}}},
      {"yolov3",
       "YOLOv3 416 darknet cfg + weights (about 237 MB); convert with qdet convert yolov3.cfg",
       "pjreddie.com (YOLO license); weights checked by the exact size yolov3.cfg needs",
       {{"yolov3.cfg", {"https://github.com/pjreddie/darknet/raw/master/cfg/yolov3.cfg"}, "", 0},
        {"yolov3.weights", {"https://pjreddie.com/media/files/yolov3.weights"}, "", 248007048}}},
      {"yolov3-tiny",
       "YOLOv3-tiny 416 darknet cfg + weights (about 34 MB)",
       "pjreddie.com (YOLO license); weights checked by the exact size yolov3-tiny.cfg needs",
       {{"yolov3-tiny.cfg", {"https://github.com/pjreddie/darknet/raw/master/cfg/yolov3-tiny.cfg"}, "", 0},
        {"yolov3-tiny.weights", {"https://pjreddie.com/media/files/yolov3-tiny.weights"}, "", 35434956}}},
      {"yolo-fastest-1.1-xl",
       "Yolo-Fastest 1.1 XL 320 darknet cfg + weights (COCO, 34.33 AP50)",
       "dog-qiuqiu/Yolo-Fastest 96a2900 (public domain)",
       {{"yolo-fastest-1.1-xl.cfg",
         {"https://github.com/dog-qiuqiu/Yolo-Fastest/raw/96a2900/ModelZoo/yolo-fastest-1.1_coco/yolo-fastest-1.1-xl.cfg"},
         "c458427acc4fbeabceff4528ef7b65b066c0308ce599460f8ba299eba63abad3",
         0},
        {"yolo-fastest-1.1-xl.weights",
         {"https://github.com/dog-qiuqiu/Yolo-Fastest/raw/96a2900/ModelZoo/yolo-fastest-1.1_coco/yolo-fastest-1.1-xl.weights"},
         "fac5fb41786c1f38f04972a658443b189f48720d7d117f9a044100e98a35b0c5",
         0}}},
      {"yolo-fastest-1.1",
       "Yolo-Fastest 1.1 320 darknet cfg + weights (COCO, 24.40 AP50)",
       "dog-qiuqiu/Yolo-Fastest 96a2900 (public domain)",
       {{"yolo-fastest-1.1.cfg",
         {"https://github.com/dog-qiuqiu/Yolo-Fastest/raw/96a2900/ModelZoo/yolo-fastest-1.1_coco/yolo-fastest-1.1.cfg"},
         "f6df5775c1e862998cf69046eba9265be3ae84dfe8b2caab7529823f0795bf70",
         0},
        {"yolo-fastest-1.1.weights",
         {"https://github.com/dog-qiuqiu/Yolo-Fastest/raw/96a2900/ModelZoo/yolo-fastest-1.1_coco/yolo-fastest-1.1.weights"},
         "1c445c42bbd6df63edea2cc69f99667b5650d663ca11e34b116240740cd42890",
         0}}},
  };
  return entries;
}

bool is_local_path(const std::string& s) { return s.find("://") == std::string::npos; }

// Runs curl; returns its exit status (127 when it cannot be started).
int run_curl(const std::string& curl, const std::string& url, const std::filesystem::path& out) {
  std::vector<std::string> args = {curl, "-fsSL", "--retry", "2", "--connect-timeout", "20", "-o", out.string(), url};
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_t pid;
  if (posix_spawnp(&pid, curl.c_str(), nullptr, nullptr, argv.data(), environ) != 0) return 127;
  int status = 0;
  while (waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) return 127;
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
}

std::string curl_reason(int code) {
  switch (code) {
    case 6: return "could not resolve the host (offline?)";
    case 7: return "could not connect (offline?)";
    case 28: return "timed out (offline or a slow network?)";
    case 22: return "the server answered with an HTTP error";
    case 35: case 60: return "TLS failed (certificates?)";
    case 127: return "curl could not be run";
    default: return fmt::format("curl exited with status {}", code);
  }
}

// Checks `path` against the file's pinned hash or size. Empty string = fine.
std::string mismatch(const FetchFile& f, const std::string& hash, uint64_t size) {
  if (!f.sha256.empty() && hash != f.sha256) return fmt::format("SHA-256 {} does not match the pinned {}", hash, f.sha256);
  if (f.sha256.empty() && f.bytes && size != f.bytes) return fmt::format("{} bytes, {} expected", size, f.bytes);
  return "";
}

}  // namespace

std::span<const FetchEntry> fetch_catalog() { return catalog(); }

Result<const FetchEntry*> find_fetch_entry(std::string_view name) {
  std::vector<std::string> names;
  for (const auto& e : catalog()) {
    if (e.name == name) return &e;
    names.push_back(e.name);
  }
  return not_found("no model called '{}' (known: {})", name, fmt::join(names, ", "));
}

Result<std::vector<FetchedFile>> fetch(const FetchEntry& entry, const FetchOptions& options) {
  if ((!options.from.empty() || !options.sha256.empty()) && entry.files.size() != 1)
    return invalid_argument("{}: --from and --sha256 apply to single-file models; this one has {} files", entry.name,
                            entry.files.size());
  QDET_TRY(ensure_directory(options.dir));
  std::vector<FetchedFile> done;
  for (FetchFile f : entry.files) {
    if (!options.sha256.empty()) f.sha256 = options.sha256;
    if (!options.from.empty()) f.urls = {options.from};
    const std::filesystem::path target = options.dir / f.name;
    FetchedFile r;
    r.path = target;
    std::error_code ec;
    if (std::filesystem::is_regular_file(target, ec) && (!f.sha256.empty() || f.bytes)) {
      QDET_ASSIGN_OR_RETURN(std::string hash, sha256_file(target));
      if (mismatch(f, hash, std::filesystem::file_size(target, ec)).empty()) {
        r.sha256 = hash;
        r.verified = r.already_present = true;
        done.push_back(r);
        continue;
      }
    }
    const std::filesystem::path tmp = options.dir / (f.name + ".part");
    std::vector<std::string> failures;
    bool ok = false;
    for (const std::string& url : f.urls) {
      std::filesystem::remove(tmp, ec);
      if (is_local_path(url)) {
        QDET_ASSIGN_OR_RETURN(auto bytes, read_file(url));
        QDET_TRY(write_file_atomic(tmp, bytes));
      } else {
        const int code = run_curl(options.curl, url, tmp);
        if (code != 0) {
          failures.push_back(fmt::format("{}: {}", url, curl_reason(code)));
          continue;
        }
      }
      QDET_ASSIGN_OR_RETURN(std::string hash, sha256_file(tmp));
      const std::string bad = mismatch(f, hash, std::filesystem::file_size(tmp, ec));
      if (!bad.empty()) {
        failures.push_back(fmt::format("{}: {}", url, bad));
        continue;
      }
      std::filesystem::rename(tmp, target, ec);
      if (ec) return io_error("{}: cannot move the download into place: {}", target.string(), ec.message());
      r.sha256 = hash;
      r.verified = !f.sha256.empty() || f.bytes != 0;
      ok = true;
      break;
    }
    std::filesystem::remove(tmp, ec);
    if (!ok)
      return io_error("{}: could not fetch {}: {}", entry.name, f.name, fmt::join(failures, "; "));
    done.push_back(r);
  }
  return done;
}

}  // namespace qdet::convert
