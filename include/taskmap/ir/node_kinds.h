#pragma once
// The one list of IR node kinds. It generates the NodeKind enum and the dispatch of the visitor,
// the mutator, the printer and structural equality: a new node is one line here plus its struct.

#define TASKMAP_EXPR_NODES(X) \
  X(IntImm)                   \
  X(FloatImm)                 \
  X(Var)                      \
  X(Binary)                   \
  X(Unary)                    \
  X(Select)                   \
  X(Cast)                     \
  X(Load)                     \
  X(Address)                  \
  X(Call)                     \
  X(Compute)                  \
  X(Reduce)

#define TASKMAP_STMT_NODES(X) \
  X(Declare)                  \
  X(LetStmt)                  \
  X(Assign)                   \
  X(Store)                    \
  X(Seq)                      \
  X(IfThenElse)               \
  X(For)                      \
  X(ForMapping)               \
  X(Evaluate)                 \
  X(Return)                   \
  X(Assert)

namespace taskmap::ir {

enum class NodeKind : unsigned char {
#define TASKMAP_ENUM(name) name,
  TASKMAP_EXPR_NODES(TASKMAP_ENUM) TASKMAP_STMT_NODES(TASKMAP_ENUM)
#undef TASKMAP_ENUM
};

const char* node_kind_name(NodeKind kind);

}  // namespace taskmap::ir
