// LightGCN propagation over the stacked [users; items] node table:
//   A = bipartite adjacency of the training CSR, Â = D^-1/2 A D^-1/2,
//   E^(l+1) = Â E^(l), final = mean over l = 0..L of E^(l).
// Forward and backward are row-gather sparse-dense products: every output row
// is summed by one thread in CSR order, so results never depend on the thread
// count or scheduling. A training step only needs the final rows of its batch,
// so each layer is computed on the rows that can reach those (the rest
// provably does not change the loss or the gradient); the backward pass skips
// rows whose gradient is structurally zero.
#pragma once
#include <cstddef>
#include <cstdint>
#include <vector>

#include "kernels/bpr.hpp"
#include "kernels/memory.hpp"

namespace dtlns {

// Â in CSR over nodes 0..nUsers+nItems-1 (items offset by nUsers). Symmetric,
// so the same matrix serves forward and backward.
struct NormalizedAdjacency {
  uint32_t nUsers = 0, nItems = 0;
  std::vector<uint64_t> indptr;
  std::vector<uint32_t> cols;
  std::vector<float> weights;
  // Relabelled by a NodeOrder: the original node of each row, and the rows in
  // original order (both empty: not relabelled). A row's neighbours keep their
  // original sequence, so its sums add the same terms in the same order as the
  // original adjacency's.
  std::vector<uint32_t> originalNode, byOriginal;
  size_t nodes() const { return size_t(nUsers) + nItems; }
};

NormalizedAdjacency buildNormalizedAdjacency(const PositiveSets& train);

// New ids for the nodes, users among users and items among items, so that
// rows which share neighbours lie close together: a layer pass then finds most
// of its sources in cache (the tables outgrow a core's caches).
// Empty: the original ids.
struct NodeOrder {
  uint32_t nUsers = 0;
  std::vector<uint32_t> userId, itemId;  // original id -> new id
  bool empty() const { return userId.empty(); }
  uint32_t node(uint32_t original) const {
    if (empty()) return original;
    return original < nUsers ? userId[original] : nUsers + itemId[original - nUsers];
  }
};

// Breadth first from the best-connected node (then the best-connected one not
// yet reached), neighbours in adjacency order.
NodeOrder breadthFirstOrder(const NormalizedAdjacency& adj);
NormalizedAdjacency relabel(const NormalizedAdjacency& adj, const NodeOrder& order);

// The input rows' edges of a sparse backward pass, regrouped by output row:
// row r's start at entries[begin[r]]; cursor[t][r] counts, then places, the
// entries of sorting thread t (all zero between calls).
struct InEdge {
  uint32_t col;
  float weight;
};
struct RowBuckets {
  std::vector<uint32_t> begin;
  std::vector<std::vector<uint32_t>> cursor;
  CachedVector<InEdge> entries;
};

// Row r of a node table held as a user block and an item block (the layer-0
// parameters) or as one stacked buffer (users = buffer, items = buffer + nUsers*dim).
struct NodeRows {
  const float* users;
  const float* items;
  uint32_t nUsers;
  size_t dim;
  const float* row(size_t r) const { return r < nUsers ? users + r * dim : items + (r - nUsers) * dim; }
};

// The layer tables, final rows and gradient of one training step (or of a full
// propagation). Buffers are allocated once and reused across steps; each is
// valid only on the rows its flag list names.
class Propagation {
 public:
  // adjacency may be null when layers == 0 (MF).
  Propagation(const NormalizedAdjacency* adjacency, uint32_t nUsers, uint32_t nItems, int layers, size_t dim);

  Propagation(const Propagation&) = delete;
  Propagation& operator=(const Propagation&) = delete;

  // Computes the final embeddings of the first `finals` targets (distinct node
  // ids; all when finals exceeds their count) from the layer-0 rows e0. Layer l
  // (1..L) is then valid at least on every target.
  void forward(const NodeRows& e0, const std::vector<uint32_t>& targets, int threads, size_t finals = SIZE_MAX);
  // Final embeddings of every node (propagate()).
  void forwardAll(const NodeRows& e0, int threads);
  const float* finalRow(uint32_t r) const { return layers_ == 0 ? e0_.row(r) : final_.data() + size_t(r) * dim_; }
  // Per-layer tables (for samplers that mix layers): layer 0 = e0.
  NodeRows layer(int l) const;

  // After forward(), the rows that carry a gradient, targets all (a sampler that
  // reads more rows than the loss depends on, its candidates, names a subset):
  // their gradients are zeroed and the backward pass starts from them alone.
  // Call before finalGradRow(). With layerGradients, layerGradRow() also takes
  // gradients w.r.t. their per-layer rows (MixGCF and DTL-NS mix layers), and
  // only the first `finals` rows take a final-row gradient (the others' is
  // zero and costs nothing).
  void carryGradients(const std::vector<uint32_t>& rows, bool layerGradients, size_t finals = SIZE_MAX);

  // Gradient w.r.t. the final row of r, a row named to carryGradients() among
  // its finals; the caller accumulates into it.
  float* finalGradRow(uint32_t r) { return targetGrad_.data() + size_t(seedSlot_[r]) * dim_; }
  // Gradient w.r.t. row r of layer l (0..L), r named to carryGradients()
  // with layerGradients; the caller accumulates into it.
  float* layerGradRow(int l, uint32_t r) { return layerGrad_[size_t(l)].data() + size_t(seedSlot_[r]) * dim_; }
  // dE0 = Σ_l Â^l G_l with G_l = dF/(L+1) (+ the layer-l gradient when taken),
  // in Horner form as autograd evaluates it: H = G_L; for l = L-1..0, H = G_l + Â H.
  void backward(int threads);
  // After backward(): dE0, valid (and possibly nonzero) only on gradientRows().
  float* gradRow(uint32_t r) { return grad_[gradBuffer_].data() + size_t(r) * dim_; }
  const float* gradient() const { return grad_[gradBuffer_].data(); }
  const uint8_t* gradientFlags() const { return gradFlags_[gradBuffer_].data(); }
  const std::vector<uint32_t>& gradientRows() const { return gradRows_[gradBuffer_]; }
  const std::vector<uint32_t>& targets() const { return targets_; }

  int layers() const { return layers_; }
  size_t nodes() const { return nodes_; }

 private:
  const NormalizedAdjacency* adj_;
  uint32_t nUsers_;
  size_t nodes_;
  int layers_;
  size_t dim_;
  NodeRows e0_{};
  std::vector<uint32_t> targets_;
  std::vector<uint8_t> targetFlags_;
  // The rows that carry gradient (carryGradients()).
  std::vector<uint32_t> seedRows_;
  std::vector<uint8_t> seedFlags_;
  std::vector<uint32_t> seedSlot_;
  CachedVector<float> targetGrad_;              // dF, one row per gradient row
  bool layerGradients_ = false;
  std::vector<CachedVector<float>> layerGrad_;  // per layer 0..L, one row per gradient row
  std::vector<HugeBuffer> tables_;  // layers 1..L, stacked
  std::vector<std::vector<uint8_t>> needFlags_;
  std::vector<std::vector<uint32_t>> needRows_;
  HugeBuffer final_;
  HugeBuffer grad_[2];  // backward ping-pongs between these
  std::vector<uint8_t> gradFlags_[2];
  std::vector<uint32_t> gradRows_[2];
  int gradBuffer_ = 0;
  RowBuckets buckets_;

  void setTargets(const std::vector<uint32_t>& targets);
  void computeLayers(int threads, size_t finals);
};

}  // namespace dtlns
