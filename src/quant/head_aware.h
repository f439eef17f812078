// Head-aware mixed precision: which ops of a detector must stay float in an integer model
// (docs/ARCHITECTURE.md, "Quantizer"). Detection heads are where int8 fails: box coordinates in pixels and scores in
// 0..1 concatenated into one tensor share one scale; grids, strides and anchors turn small
// offsets into large pixel values; post-processing needs real numbers.
//
// The rules, in order (each kept op gets the first reason that applies):
//   1. TFLite_Detection_PostProcess and every op after it.
//   2. The decode tail: ops with no weighted op (CONV_2D, DEPTHWISE_CONV_2D, FULLY_CONNECTED,
//      TRANSPOSE_CONV) after them. In that tail, a "decode trigger" is kept in float with
//      every op after it:
//        - EXP (box sizes), SCATTER_ND (writes decoded boxes back into the output);
//        - ADD/SUB/MUL/DIV with a constant operand holding more than one distinct value
//          (grid offsets, per-anchor strides and sizes);
//        - CONCATENATION whose inputs' ranges differ by more than `concat_ratio` (for example
//          raw box regressions next to 0..1 scores); the range of an input is max(|min|,|max|)
//          of its calibrated values, so this rule needs ranges.
//      Every other tail op that feeds a kept op (score LOGISTICs, reshapes, transposes and
//      concatenations between the last convolutions and the decode) is kept too: the model
//      switches to float once, right after its last convolutions.
//      2b. A weighted op whose every reader is kept float, a graph output counting as a float
//      reader (the head's last convolutions, whose output channels mix boxes, objectness and
//      class logits; raw head outputs that qdet's post-processing decodes) is kept too
//      (`float_head_convs`; not in models with TFLite_Detection_PostProcess, whose box and
//      class predictors are separate convolutions already; YOLOv5n int8 on val2017-139: AP 30.4 -> 31.0).
//   3. CAST to float32 (class indices and other integers as floats).
//   4. int8: a DEPTHWISE_CONV_2D whose input's channel spread (calibrate.h channel_spread) is
//      over `max_channel_spread`, with the ops that make that input back to the weighted op
//      that produced it. (YOLOX-Nano's stem: channels up to 93 beside channels within 0.3; kept
//      int8, the depthwise output of those channels is at 0 dB SQNR and AP drops ~8.)
//   5. --keep-float names: an op whose output tensor has that name, an op kind ("EXP"), or an
//      op index ("#12"); each name must match something.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "base/status.h"
#include "graph/graph.h"
#include "quant/modes.h"

namespace qdet::quant {

struct HeadAwareOptions {
  bool enabled = true;          // rules 1-4; --keep-float names apply either way
  double concat_ratio = 2.0;
  bool float_head_convs = true;  // rule 2b
  // Rule 4: off when 0 or when no spreads are known (int16x8 passes none: 65536 levels keep
  // the small channels; a table without "channel_spread" has none).
  double max_channel_spread = 64;
  std::map<std::string, double> channel_spreads;  // by tensor key
  std::vector<std::string> keep_float;  // user names (rule 4)
};

struct FloatDecision {
  int32_t op = -1;
  std::string reason;
};

// The ops to keep in float (sorted by op index), each with its reason. `ranges` may be null
// (the concatenation rule is skipped).
Result<std::vector<FloatDecision>> choose_float_ops(const graph::Graph& graph,
                                                    const RangeMap* ranges,
                                                    const HeadAwareOptions& options);

// Short lines for people: consecutive ops with the same reason are grouped.
std::vector<std::string> describe_float_ops(const graph::Graph& graph,
                                            const std::vector<FloatDecision>& decisions);

}  // namespace qdet::quant
