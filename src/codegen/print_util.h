#pragma once
// Pieces the CPU and CUDA printers share: which buffers a function writes (its other pointer
// parameters are printed const), parameter lists wrapped to the line width, and the header
// comment's entries.
#include <string>
#include <unordered_set>
#include <vector>

#include "taskmap/ir/stmt.h"

namespace taskmap::codegen {

// Tensor and pointer parameters a function body may write: stored to, or their address or value
// used anywhere except as a read-only primitive argument. None for an undefined body (a
// declaration).
std::unordered_set<const ir::ExprNode*> written_buffers(const ir::Stmt& body);

// `items` joined by ", " after `head(`, or one per line when that line would be too long.
std::string call_list(const std::string& head, const std::vector<std::string>& items, int indent);

// The comment a generated file starts with: the module, the target and each function's attrs.
std::string header_comment(const ir::Module& module, const std::string& target);

}  // namespace taskmap::codegen
