#pragma once
// Sub-registrations of the signal operator family.
#include <vector>

#include "graph/ops/op_util.h"

namespace taskmap::graph::ops::signal {

// HannWindow, HammingWindow, BlackmanWindow, MelWeightMatrix.
void register_signal_window_ops(std::vector<OpDef>& defs);
// DFT, STFT.
void register_signal_dft_ops(std::vector<OpDef>& defs);

}  // namespace taskmap::graph::ops::signal
