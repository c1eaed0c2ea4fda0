//===- Interpreter.h - reference interpreter of the tfx dialect -*- C++ -*-===//
//
// Executes a `func.func` of tfx ops (plus `arith.constant`) op by op on host
// tensors, accumulating reductions in double. It is the oracle of every pass
// and backend: simple and obviously right rather than fast.
//
//===----------------------------------------------------------------------===//
#ifndef TFX_INTERPRETER_INTERPRETER_H
#define TFX_INTERPRETER_INTERPRETER_H

#include "tfx/Support/Tensor.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "llvm/Support/Error.h"

#include "llvm/ADT/DenseMap.h"

#include <functional>
#include <memory>
#include <map>
#include <string>

namespace mlir::tfx {

/// Converts between IR element types and host tensors.
DType dtypeOf(mlir::Type elementType);
/// Checks that `t` fits `type` (shape and element kind).
llvm::Error checkTensorType(const Tensor &t, mlir::RankedTensorType type,
                            llvm::StringRef what);

/// Evaluates one op on concrete operand values (used for constant folding
/// by the frontends, and by the interpreter itself). Weight ops are not
/// handled here.
llvm::Expected<std::vector<Tensor>> evaluateOp(mlir::Operation *op,
                                               const std::vector<Tensor> &operands);
/// evaluateOp without copying the operands (every op has one result).
llvm::Expected<Tensor> evaluateOpOn(mlir::Operation *op,
                                    llvm::ArrayRef<const Tensor *> operands);

/// A location as a user reads it: `file:line:col`, `'name' (file:line:col)`.
std::string formatLocation(mlir::Location loc);

/// Sees every computed op (not tfx.weight) right after it ran: its operand
/// values and its result, which it may change before later ops read it
/// (calibration records statistics; importance estimates ablate parts).
using OpObserver = std::function<void(
    mlir::Operation *op, llvm::ArrayRef<const Tensor *> operands, Tensor &result)>;

/// What a run needs to go on from one op of its function: the values
/// later ops read and the weights still to load (shared, not copied). A
/// sensitivity search that changes one op reruns only from there.
class RunCheckpoint {
public:
  struct State;
  RunCheckpoint() = default;
  explicit RunCheckpoint(std::shared_ptr<const State> state) : state(std::move(state)) {}
  const State *get() const { return state.get(); }

private:
  std::shared_ptr<const State> state;
};

/// Ops to take checkpoints at (the keys); a run fills in the values.
using RunCheckpoints = llvm::DenseMap<mlir::Operation *, RunCheckpoint>;

/// Runs `func` (default: the module's `main`, else its only function).
/// Inputs and outputs are keyed by their `tfx.name` argument/result
/// attribute (or `arg<i>` / `result<i>` without one). With `checkpoints`,
/// records one just before each op listed in it.
llvm::Expected<std::map<std::string, Tensor>>
runFunction(mlir::ModuleOp module, const std::map<std::string, Tensor> &inputs,
            llvm::StringRef funcName = "", const OpObserver &observer = nullptr,
            RunCheckpoints *checkpoints = nullptr);

/// Goes on from `checkpoint` (its op runs again, seen by `observer`): the
/// outputs of a whole run whose earlier ops computed what they did when the
/// checkpoint was taken.
llvm::Expected<std::map<std::string, Tensor>>
resumeFunction(const RunCheckpoint &checkpoint, const OpObserver &observer = nullptr);

/// The function runFunction runs: `funcName`, else `main`, else the only one.
llvm::Expected<mlir::func::FuncOp> findEntryFunction(mlir::ModuleOp module,
                                                     llvm::StringRef funcName = "");
/// Input names of `func` in argument order (`tfx.name` or `arg<i>`).
std::vector<std::string> inputNames(mlir::func::FuncOp func);

/// Converts an elements attribute (arith.constant value) to a host tensor.
llvm::Expected<Tensor> tensorFromAttr(mlir::Attribute attr);
/// Converts a host tensor to a DenseElementsAttr of `type`.
mlir::DenseElementsAttr attrFromTensor(const Tensor &t, mlir::RankedTensorType type);

} // namespace mlir::tfx

#endif // TFX_INTERPRETER_INTERPRETER_H
