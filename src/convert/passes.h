// Graph passes the converters run after import (graph::Graph in, graph::Graph out).
#pragma once

#include "graph/graph.h"

namespace qdet::convert {

// Fuses RELU / RELU6 / RELU_N1_TO_1 into the op before it when that op has a fused activation
// in TFLite (CONV_2D, DEPTHWISE_CONV_2D, FULLY_CONNECTED, ADD, SUB, MUL, pools), has none yet,
// and its output feeds only the activation (and is not a graph output). Returns the count.
int fuse_activations(graph::Graph& graph);

// Drops ops whose outputs nobody reads (and are not graph outputs), then tensors no op or graph
// input/output refers to; tensor ids are renumbered. Returns the number of ops removed.
int remove_unused(graph::Graph& graph);

}  // namespace qdet::convert
