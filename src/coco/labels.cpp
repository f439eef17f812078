#include "coco/labels.h"

namespace qdet::coco {
namespace {

struct CocoClass {
  int id;
  std::string_view name;
};

// instances_train2017.json / instances_val2017.json `categories`, in file order.
constexpr std::array<CocoClass, kNumCocoClasses> kClasses = {{
    {1, "person"},         {2, "bicycle"},       {3, "car"},            {4, "motorcycle"},
    {5, "airplane"},       {6, "bus"},           {7, "train"},          {8, "truck"},
    {9, "boat"},           {10, "traffic light"}, {11, "fire hydrant"}, {13, "stop sign"},
    {14, "parking meter"}, {15, "bench"},        {16, "bird"},          {17, "cat"},
    {18, "dog"},           {19, "horse"},        {20, "sheep"},         {21, "cow"},
    {22, "elephant"},      {23, "bear"},         {24, "zebra"},         {25, "giraffe"},
    {27, "backpack"},      {28, "umbrella"},     {31, "handbag"},       {32, "tie"},
    {33, "suitcase"},      {34, "frisbee"},      {35, "skis"},          {36, "snowboard"},
    {37, "sports ball"},   {38, "kite"},         {39, "baseball bat"},  {40, "baseball glove"},
    {41, "skateboard"},    {42, "surfboard"},    {43, "tennis racket"}, {44, "bottle"},
    {46, "wine glass"},    {47, "cup"},          {48, "fork"},          {49, "knife"},
    {50, "spoon"},         {51, "bowl"},         {52, "banana"},        {53, "apple"},
    {54, "sandwich"},      {55, "orange"},       {56, "broccoli"},      {57, "carrot"},
    {58, "hot dog"},       {59, "pizza"},        {60, "donut"},         {61, "cake"},
    {62, "chair"},         {63, "couch"},        {64, "potted plant"},  {65, "bed"},
    {67, "dining table"},  {70, "toilet"},       {72, "tv"},            {73, "laptop"},
    {74, "mouse"},         {75, "remote"},       {76, "keyboard"},      {77, "cell phone"},
    {78, "microwave"},     {79, "oven"},         {80, "toaster"},       {81, "sink"},
    {82, "refrigerator"},  {84, "book"},         {85, "clock"},         {86, "vase"},
    {87, "scissors"},      {88, "teddy bear"},   {89, "hair drier"},    {90, "toothbrush"},
}};

constexpr std::array<int, kNumCocoClasses> make_ids() {
  std::array<int, kNumCocoClasses> ids{};
  for (int i = 0; i < kNumCocoClasses; ++i) ids[i] = kClasses[i].id;
  return ids;
}
constexpr std::array<int, kNumCocoClasses> kIds = make_ids();

constexpr std::array<int, kMaxCocoCategoryId + 1> make_inverse() {
  std::array<int, kMaxCocoCategoryId + 1> inv{};
  for (int& v : inv) v = -1;
  for (int i = 0; i < kNumCocoClasses; ++i) inv[kClasses[i].id] = i;
  return inv;
}
constexpr std::array<int, kMaxCocoCategoryId + 1> kClassOfId = make_inverse();

static_assert(kClasses.front().id == 1 && kClasses.back().id == kMaxCocoCategoryId);
static_assert(kClassOfId[12] == -1 && kClassOfId[13] == 11 && kClassOfId[90] == 79);

}  // namespace

int coco_category_id_from_class80(int class_index) {
  if (class_index < 0 || class_index >= kNumCocoClasses) return -1;
  return kClasses[class_index].id;
}

int coco_class80_from_category_id(int category_id) {
  if (category_id < 0 || category_id > kMaxCocoCategoryId) return -1;
  return kClassOfId[category_id];
}

std::string_view coco_category_name(int category_id) {
  int c = coco_class80_from_category_id(category_id);
  return c < 0 ? std::string_view() : kClasses[c].name;
}

std::string_view coco_class80_name(int class_index) {
  if (class_index < 0 || class_index >= kNumCocoClasses) return {};
  return kClasses[class_index].name;
}

std::span<const int, kNumCocoClasses> coco_category_ids80() { return kIds; }

}  // namespace qdet::coco
