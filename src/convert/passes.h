// Graph passes the converters run after import (graph::Graph in, graph::Graph out).
#pragma once

#include "graph/graph.h"

namespace qdet::convert {

// Fuses RELU / RELU6 / RELU_N1_TO_1 into the op before it when that op has a fused activation
// in TFLite (CONV_2D, DEPTHWISE_CONV_2D, FULLY_CONNECTED, ADD, SUB, MUL, pools), has none yet,
// and its output feeds only the activation (and is not a graph output). Returns the count.
int fuse_activations(graph::Graph& graph);

// Folds a GATHER that permutes the last (channel) axis with constant indices into the
// CONV_2D or FULLY_CONNECTED producing its input: that op's float weights and bias are permuted
// along their output channels instead (DepthToSpace CRD after a convolution costs nothing).
// The producer's output must feed only the GATHER and not be a graph output, and its weights
// and bias no other op. Returns the count.
int fold_channel_gathers(graph::Graph& graph);

// Drops ops whose outputs nobody reads (and are not graph outputs), then tensors no op or graph
// input/output refers to; tensor ids are renumbered. Returns the number of ops removed.
int remove_unused(graph::Graph& graph);

}  // namespace qdet::convert
