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

#include <functional>
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

/// Runs `func` (default: the module's `main`, else its only function).
/// Inputs and outputs are keyed by their `tfx.name` argument/result
/// attribute (or `arg<i>` / `result<i>` without one).
llvm::Expected<std::map<std::string, Tensor>>
runFunction(mlir::ModuleOp module, const std::map<std::string, Tensor> &inputs,
            llvm::StringRef funcName = "", const OpObserver &observer = nullptr);

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
