// Signal processing operators: window functions, the mel filter bank, DFT and STFT.
#include "graph/ops/signal_common.h"

namespace taskmap::graph::ops {

void register_signal_ops(std::vector<OpDef>& defs) {
  signal::register_signal_window_ops(defs);
  signal::register_signal_dft_ops(defs);
}

}  // namespace taskmap::graph::ops
