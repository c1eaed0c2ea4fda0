//===- ShareLayers.cpp - share near-identical weights across layers -------===//
//
// Greedy clustering in program order: a linear weight joins the first group
// whose founding weight (same shape) lies within `threshold` relative
// distance; every group of two or more becomes one weight, the members'
// mean, which all of them use (the CPU weight blob then stores it once).
// Biases are shared along when all members have one and they are as close.
//
//===----------------------------------------------------------------------===//

#include "CompressionReport.h"
#include "Structure.h"
#include "Weights.h"
#include "tfx/Passes/Passes.h"

#include "llvm/Support/Format.h"

#include <cmath>

namespace mlir::tfx {
#define GEN_PASS_DEF_TFXSHARELAYERS
#include "passes/Passes.h.inc"
} // namespace mlir::tfx

using namespace mlir;
using namespace mlir::tfx;

namespace {

double relativeDistance(const Tensor &a, const Tensor &reference) {
  double diff = 0, norm = 0;
  for (size_t n = 0; n < a.f.size(); ++n) {
    double d = (double)a.f[n] - reference.f[n];
    diff += d * d;
    norm += (double)reference.f[n] * reference.f[n];
  }
  return norm > 0 ? std::sqrt(diff / norm) : (diff > 0 ? INFINITY : 0.0);
}

struct Group {
  Value founder;
  Tensor data;
  SmallVector<Value> members;
  SmallVector<double> distances;
  SmallVector<LinearOp> users;
};

struct ShareLayersPass : mlir::tfx::impl::TfxShareLayersBase<ShareLayersPass> {
  using TfxShareLayersBase::TfxShareLayersBase;

  void runOnOperation() override {
    if (failed(run()))
      signalPassFailure();
  }

  LogicalResult run() {
    ModuleOp module = getOperation();
    if (!(threshold >= 0))
      return module.emitError("tfx-share-layers: threshold must be >= 0");
    auto func = findEntryFunction(module);
    if (!func)
      return module.emitError("tfx-share-layers: ")
             << llvm::toString(func.takeError());
    auto run = CompressionRun::begin(module, getArgument(), calibration,
                                     calibrationBatches, false);
    if (failed(run))
      return failure();

    std::vector<Group> groups;
    llvm::DenseMap<Value, size_t> groupOf;
    WalkResult walk = func->walk([&](LinearOp linear) -> WalkResult {
      Value w = linear.getWeight();
      if (!isWeightValue(w))
        return WalkResult::advance();
      if (auto it = groupOf.find(w); it != groupOf.end()) {
        groups[it->second].users.push_back(linear);
        return WalkResult::advance();
      }
      auto data = readWeight(w);
      if (!data) {
        linear.emitError("tfx-share-layers: ") << llvm::toString(data.takeError());
        return WalkResult::interrupt();
      }
      for (auto [n, g] : llvm::enumerate(groups)) {
        if (g.founder.getType() != w.getType())
          continue;
        double distance = relativeDistance(*data, g.data);
        if (distance > threshold)
          continue;
        g.members.push_back(w);
        g.distances.push_back(distance);
        g.users.push_back(linear);
        groupOf[w] = n;
        return WalkResult::advance();
      }
      groupOf[w] = groups.size();
      groups.push_back({w, std::move(*data), {w}, {0.0}, {linear}});
      return WalkResult::advance();
    });
    if (walk.wasInterrupted())
      return failure();

    int64_t merged = 0;
    for (Group &g : groups) {
      if (g.members.size() < 2)
        continue;
      // The mean of the members, stored once.
      Tensor mean = Tensor::floats(g.data.shape);
      for (Value member : g.members) {
        auto data = readWeight(member);
        if (!data)
          return member.getDefiningOp()->emitError("tfx-share-layers: ")
                 << llvm::toString(data.takeError());
        for (size_t n = 0; n < mean.f.size(); ++n)
          mean.f[n] += data->f[n] / g.members.size();
      }
      OpBuilder b(g.users.front());
      std::string name = "shared." + weightName(g.founder);
      auto shared = createWeight(b, g.founder.getLoc(),
                                 cast<RankedTensorType>(g.founder.getType()), mean, name);
      if (failed(shared))
        return failure();
      // Users must follow the new weight: move it to the function start.
      shared->getDefiningOp()->moveBefore(&func->getBody().front().front());
      for (LinearOp user : g.users)
        user.getWeightMutable().assign(*shared);
      for (auto [member, distance] : llvm::zip(g.members, g.distances))
        if (member != g.founder)
          run->log() << "'" << weightName(member) << "' shares with '"
                     << weightName(g.founder) << "' (distance "
                     << llvm::format("%.4f", distance) << ")\n";
      merged += g.members.size() - 1;
      if (failed(shareBiases(func->getBody().front(), g, name)))
        return failure();
    }
    eraseDeadOps(*func);
    run->log() << merged << " weights merged into others, "
               << llvm::count_if(groups, [](const Group &g) { return g.members.size() > 1; })
               << " shared weights\n";
    return success(succeeded(run->finish(module)));
  }

  /// Shares the users' biases too when all have one within the threshold.
  LogicalResult shareBiases(Block &body, Group &g, StringRef name) {
    SmallVector<Value> biases;
    for (LinearOp user : g.users) {
      if (!user.getBias() || !isWeightValue(user.getBias()))
        return success();
      if (!llvm::is_contained(biases, user.getBias()))
        biases.push_back(user.getBias());
    }
    auto first = readWeight(biases.front());
    if (!first)
      return success();
    Tensor mean = Tensor::floats(first->shape);
    for (Value bias : biases) {
      auto data = readWeight(bias);
      if (!data || data->shape != first->shape ||
          relativeDistance(*data, *first) > threshold)
        return success();
      for (size_t n = 0; n < mean.f.size(); ++n)
        mean.f[n] += data->f[n] / biases.size();
    }
    OpBuilder b(&body, body.begin());
    auto shared = createWeight(b, biases.front().getLoc(),
                               cast<RankedTensorType>(biases.front().getType()), mean,
                               (name + ".bias").str());
    if (failed(shared))
      return failure();
    for (LinearOp user : g.users)
      user.getBiasMutable().assign(*shared);
    return success();
  }
};

} // namespace
