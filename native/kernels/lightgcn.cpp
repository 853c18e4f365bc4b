#include "kernels/lightgcn.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <omp.h>

#include "kernels/parallel.hpp"
#include "kernels/threading.hpp"

namespace dtlns {
namespace {

// Neighbour rows are scattered over tables of tens of MB: fetch a few edges ahead.
constexpr uint64_t kPrefetchEdges = 8;
// The backward pass gathers from its input rows' own edges (gatherFromRows)
// when they times this are fewer than the adjacency's (see Propagation::backward).
constexpr double kBucketEdgeCost = 3;
// Gathers hand out their rows to threads in runs of this many.
constexpr size_t kRowsPerRun = 256;
// A backward gather drops its mask when all but 1/kDenseShare of the rows carry input.
constexpr size_t kDenseShare = 8;

// The accumulator's start (base, or zeros) and its copy out, as element loops: a memcpy or
// memset call on it keeps it on the stack instead of in registers. GCC emits such calls for
// 256 bytes without AVX-512 unless told not to (CMakeLists.txt); on a Zen 3 they made LightGCN
// epochs 1.09-1.14x slower.
inline void copyRow(float* __restrict out, const float* __restrict in, size_t dim) {
#pragma omp simd
  for (size_t d = 0; d < dim; ++d) out[d] = in[d];
}
inline void startRow(float* __restrict o, const float* __restrict base, size_t dim) {
  if (base) {
    copyRow(o, base, dim);
  } else {
#pragma omp simd
    for (size_t d = 0; d < dim; ++d) o[d] = 0.f;
  }
}

// Fetches the source rows of the first kPrefetchEdges edges of row r (those
// that pass the mask, if any).
inline void prefetchFirstEdges(const NormalizedAdjacency& adj, const NodeRows& in, const uint8_t* mask, uint32_t r) {
  const float* table = r < in.nUsers ? in.items : in.users;
  const uint32_t first = r < in.nUsers ? in.nUsers : 0;
  for (uint64_t e = adj.indptr[r], stop = std::min(adj.indptr[r + 1], e + kPrefetchEdges); e < stop; ++e) {
    const uint32_t c = adj.cols[e];
    if (!mask || mask[c]) prefetchRow(table + size_t(c - first) * in.dim, in.dim, false);
  }
}

// One output row: acc = base + Σ_{e in [begin, end), !kMasked or mask[col]} w_e x(col),
// the sources of the first kPrefetchEdges edges already fetched.
// The neighbours of a user row are all items and vice versa, so the source
// table is fixed per row. kDim > 0 fixes the width at compile time so the
// accumulator lives in registers.
template <size_t kDim, bool kMasked>
inline void gatherRow(const NormalizedAdjacency& adj, uint64_t begin, uint64_t end, const float* table, uint32_t first,
                      const uint8_t* mask, const float* base, float* __restrict out, size_t dimRuntime) {
  const size_t dim = kDim ? kDim : dimRuntime;
  float acc[kDim ? kDim : 1];
  float* __restrict o = kDim ? acc : out;
  startRow(o, base, dim);
  for (uint64_t e = begin; e < end; ++e) {
    if (e + kPrefetchEdges < end) {
      const uint32_t ahead = adj.cols[e + kPrefetchEdges];
      if (!kMasked || mask[ahead]) prefetchRow(table + size_t(ahead - first) * dim, dim, false);
    }
    const uint32_t c = adj.cols[e];
    if (kMasked && !mask[c]) continue;
    const float w = adj.weights[e];
    const float* __restrict x = table + size_t(c - first) * dim;
#pragma omp simd
    for (size_t d = 0; d < dim; ++d) o[d] += w * x[d];
  }
  if (kDim) copyRow(out, acc, dim);
}

// out[r] = base(r) + Σ_{c ∈ N(r), inFlags == null or inFlags[c]} Â_rc in(c) for r in rows.
// base(r) is the compact row baseSlot[r] of `base` where baseFlags[r], else 0.
template <size_t kDim>
void gatherRows(const NormalizedAdjacency& adj, const NodeRows& in, const uint8_t* inFlags, const float* base,
                const uint32_t* baseSlot, const uint8_t* baseFlags, float* out, const std::vector<uint32_t>& rows,
                size_t dim, int threads) {
  const double work = double(rows.size()) * double(dim) * (double(adj.cols.size()) / double(adj.nodes()) + 1);
  forEachRun(threadsFor(threads, work), rows.size(), kRowsPerRun, [&](size_t first, size_t last) {
    prefetchFirstEdges(adj, in, inFlags, rows[first]);
    for (size_t k = first; k < last; ++k) {
      const uint32_t r = rows[k];
      // Rows average 10-20 edges: the next row's first sources are fetched a
      // row ahead, or they would miss while the look-ahead within a row starts.
      if (k + 1 < last) prefetchFirstEdges(adj, in, inFlags, rows[k + 1]);
      const bool userRow = r < in.nUsers;
      const float* table = userRow ? in.items : in.users;
      const uint32_t firstCol = userRow ? in.nUsers : 0;
      const float* b = base && baseFlags[r] ? base + size_t(baseSlot[r]) * dim : nullptr;
      float* o = out + size_t(r) * dim;
      if (inFlags)
        gatherRow<kDim, true>(adj, adj.indptr[r], adj.indptr[r + 1], table, firstCol, inFlags, b, o, dim);
      else
        gatherRow<kDim, false>(adj, adj.indptr[r], adj.indptr[r + 1], table, firstCol, nullptr, b, o, dim);
    }
  });
}

void gatherRows(const NormalizedAdjacency& adj, const NodeRows& in, const uint8_t* inFlags, const float* base,
                const uint32_t* baseSlot, const uint8_t* baseFlags, float* out, const std::vector<uint32_t>& rows,
                size_t dim, int threads) {
  if (dim == 64)  // the default width, worth a register-resident accumulator
    gatherRows<64>(adj, in, inFlags, base, baseSlot, baseFlags, out, rows, dim, threads);
  else
    gatherRows<0>(adj, in, inFlags, base, baseSlot, baseFlags, out, rows, dim, threads);
}

// out[r] = always[r] or any neighbour c of r has from[c], for every node.
void markNeighbours(const NormalizedAdjacency& adj, const uint8_t* from, const uint8_t* always, uint8_t* out,
                    int threads) {
  parallelFor(threadsFor(threads, double(adj.cols.size())), int64_t(adj.nodes()), [&](int64_t begin, int64_t end, int) {
    for (int64_t r = begin; r < end; ++r) {
      uint8_t hit = always[r];
      for (uint64_t e = adj.indptr[r], stop = adj.indptr[r + 1]; e < stop && !hit; ++e) hit = from[adj.cols[e]];
      out[r] = hit;
    }
  });
}

// gatherRow() over an output row's bucketed entries: acc = base + Σ_k w_k in(c_k).
// The entries of the next rows follow up to `stop`: the look-ahead runs on into them.
template <size_t kDim>
inline void sumEntries(const InEdge* entries, uint32_t count, const InEdge* stop, const NodeRows& in,
                       const float* base, float* __restrict out, size_t dimRuntime) {
  const size_t dim = kDim ? kDim : dimRuntime;
  float acc[kDim ? kDim : 1];
  float* __restrict o = kDim ? acc : out;
  startRow(o, base, dim);
  for (uint32_t k = 0; k < count; ++k) {
    if (entries + k + kPrefetchEdges < stop) prefetchRow(in.row(entries[k + kPrefetchEdges].col), dim, false);
    const float w = entries[k].weight;
    const float* __restrict x = in.row(entries[k].col);
#pragma omp simd
    for (size_t d = 0; d < dim; ++d) o[d] += w * x[d];
  }
  if (kDim) copyRow(out, acc, dim);
}

// The masked gather when few rows carry input:
//   out[r] = base(r) + Σ_{c ∈ N(r) ∩ inRows} Â_rc in(c)
// on every neighbour of an input row and every base row (baseFlags), listed
// ascending in outRows and flagged in outFlags. The input rows' edges (inEdges
// of them) are first regrouped by output row, a counting sort that keeps the
// order of inRows (sorted as every CSR row lists its neighbours: ascending, by
// original node after relabel()), so each output row receives the same terms in
// the same order as gatherRows() adds them (the results are bit-identical) at a
// cost of the input rows' edges instead of every edge of the output rows; each
// row is then summed in registers and written once. Every phase runs on all
// threads: thread t counts and places the edges of its slice of inRows, whose
// entries follow those of the slices before it in each bucket.
void gatherFromRows(const NormalizedAdjacency& adj, const NodeRows& in, const std::vector<uint32_t>& inRows,
                    size_t inEdges, const float* base, const uint32_t* baseSlot, const uint8_t* baseFlags, float* out,
                    std::vector<uint8_t>& outFlags, std::vector<uint32_t>& outRows, RowBuckets& buckets, size_t dim,
                    int threads) {
  const size_t nodes = adj.nodes();
  const int team = threadsFor(threads, double(inEdges) * double(dim));
  std::vector<uint32_t>& begin = buckets.begin;
  std::vector<std::vector<uint32_t>>& cursor = buckets.cursor;
  if (begin.size() != nodes) {
    begin.assign(nodes, 0);
    cursor.clear();
  }
  while (cursor.size() < size_t(team)) cursor.emplace_back(nodes, 0);
  // Sized up front: nothing allocates inside the parallel region.
  reserveRounded(buckets.entries, inEdges);
  buckets.entries.resize(inEdges);
  outRows.reserve(nodes);
  std::vector<size_t> sliceEntries(size_t(team) + 1, 0), sliceRows(size_t(team) + 1, 0);
  const uint64_t* indptr = adj.indptr.data();
  const uint32_t* cols = adj.cols.data();
  const float* weights = adj.weights.data();
  InEdge* entries = buckets.entries.data();
  size_t nOut = 0;
#pragma omp parallel num_threads(team) if (team > 1)
  {
    const int t = omp_get_thread_num(), nt = omp_get_num_threads();
    const size_t inFirst = inRows.size() * size_t(t) / size_t(nt), inLast = inRows.size() * size_t(t + 1) / size_t(nt);
    const size_t first = nodes * size_t(t) / size_t(nt), last = nodes * size_t(t + 1) / size_t(nt);
    uint32_t* mine = cursor[size_t(t)].data();
    for (size_t k = inFirst; k < inLast; ++k)
      for (uint64_t e = indptr[inRows[k]], stop = indptr[inRows[k] + 1]; e < stop; ++e) ++mine[cols[e]];
#pragma omp barrier
    // This thread's slice of the nodes: which are output rows, and their entries.
    size_t count = 0, rows = 0;
    for (size_t r = first; r < last; ++r) {
      uint32_t edges = 0;
      for (int s = 0; s < nt; ++s) edges += cursor[size_t(s)][r];
      outFlags[r] = edges || baseFlags[r];
      count += edges;
      rows += outFlags[r];
    }
    sliceEntries[size_t(t) + 1] = count;
    sliceRows[size_t(t) + 1] = rows;
#pragma omp barrier
#pragma omp single
    {
      for (int s = 0; s < nt; ++s) {
        sliceEntries[size_t(s) + 1] += sliceEntries[size_t(s)];
        sliceRows[size_t(s) + 1] += sliceRows[size_t(s)];
      }
      nOut = sliceRows[size_t(nt)];
      outRows.resize(nOut);  // within its capacity: no allocation
    }
    // Bucket starts; each thread's counts become its write positions.
    size_t at = sliceEntries[size_t(t)], row = sliceRows[size_t(t)];
    for (size_t r = first; r < last; ++r) {
      if (!outFlags[r]) continue;
      outRows[row++] = uint32_t(r);
      begin[r] = uint32_t(at);
      for (int s = 0; s < nt; ++s) {
        const uint32_t edges = cursor[size_t(s)][r];
        cursor[size_t(s)][r] = uint32_t(at);
        at += edges;
      }
    }
#pragma omp barrier
    for (size_t k = inFirst; k < inLast; ++k) {
      const uint32_t c = inRows[k];
      for (uint64_t e = indptr[c], stop = indptr[c + 1]; e < stop; ++e)
        entries[mine[cols[e]]++] = InEdge{c, weights[e]};
    }
#pragma omp barrier
    // The last thread's positions now end the buckets. Rows cost their entries: hand them out in small runs.
    const uint32_t* end = cursor[size_t(nt - 1)].data();
    const InEdge* stop = entries + inEdges;
#pragma omp for schedule(dynamic, 64)
    for (size_t k = 0; k < nOut; ++k) {
      const uint32_t r = outRows[k];
      const float* b = baseFlags[r] ? base + size_t(baseSlot[r]) * dim : nullptr;
      if (dim == 64)
        sumEntries<64>(entries + begin[r], end[r] - begin[r], stop, in, b, out + size_t(r) * dim, dim);
      else
        sumEntries<0>(entries + begin[r], end[r] - begin[r], stop, in, b, out + size_t(r) * dim, dim);
    }
    // After the loop's barrier, clear this thread's cursors on every output row.
    for (size_t k = 0; k < nOut; ++k) mine[outRows[k]] = 0;
  }
}

// Every value +0 or -0 (either adds nothing to a sum but the sign of a zero).
bool isZeroRow(const float* row, size_t dim) {
  uint32_t bits = 0;
  for (size_t d = 0; d < dim; ++d) {
    uint32_t b;
    std::memcpy(&b, row + d, sizeof b);
    bits |= b & 0x7fffffffu;
  }
  return bits == 0;
}

double edgesOf(const NormalizedAdjacency& adj, const std::vector<uint32_t>& rows) {
  double edges = 0;
  for (uint32_t r : rows) edges += double(adj.indptr[r + 1] - adj.indptr[r]);
  return edges;
}

void listFlagged(const std::vector<uint8_t>& flags, std::vector<uint32_t>& rows) {
  rows.clear();
  for (size_t r = 0; r < flags.size(); ++r)
    if (flags[r]) rows.push_back(uint32_t(r));
}

}  // namespace

NormalizedAdjacency buildNormalizedAdjacency(const PositiveSets& train) {
  NormalizedAdjacency adj;
  adj.nUsers = train.nUsers;
  adj.nItems = train.nItems;
  const size_t nodes = adj.nodes(), nnz = train.nnz();
  std::vector<uint64_t> degree(nodes, 0);
  for (uint32_t u = 0; u < train.nUsers; ++u) {
    degree[u] = train.degree(u);
    for (uint32_t p = train.indptr[u]; p < train.indptr[u + 1]; ++p) ++degree[size_t(train.nUsers) + train.indices[p]];
  }
  // D^-1/2 in float32, as LightGCN-PyTorch builds it; degree-0 nodes have no entries.
  std::vector<float> invSqrt(nodes, 0.f);
  for (size_t r = 0; r < nodes; ++r)
    if (degree[r]) invSqrt[r] = float(1.0 / std::sqrt(double(degree[r])));
  adj.indptr.assign(nodes + 1, 0);
  for (size_t r = 0; r < nodes; ++r) adj.indptr[r + 1] = adj.indptr[r] + degree[r];
  adj.cols.resize(2 * nnz);
  adj.weights.resize(2 * nnz);
  std::vector<uint64_t> next(adj.indptr.begin(), adj.indptr.end() - 1);
  // Users in ascending order, so every item row also lists its users ascending.
  for (uint32_t u = 0; u < train.nUsers; ++u) {
    for (uint32_t p = train.indptr[u]; p < train.indptr[u + 1]; ++p) {
      const size_t item = size_t(train.nUsers) + train.indices[p];
      const float w = invSqrt[u] * invSqrt[item];
      adj.cols[next[u]] = uint32_t(item);
      adj.weights[next[u]++] = w;
      adj.cols[next[item]] = u;
      adj.weights[next[item]++] = w;
    }
  }
  return adj;
}

NodeOrder breadthFirstOrder(const NormalizedAdjacency& adj) {
  const size_t nodes = adj.nodes();
  std::vector<uint32_t> starts(nodes);
  for (size_t r = 0; r < nodes; ++r) starts[r] = uint32_t(r);
  auto degree = [&](uint32_t r) { return adj.indptr[r + 1] - adj.indptr[r]; };
  std::stable_sort(starts.begin(), starts.end(), [&](uint32_t a, uint32_t b) { return degree(a) > degree(b); });
  NodeOrder order;
  order.nUsers = adj.nUsers;
  order.userId.resize(adj.nUsers);
  order.itemId.resize(adj.nItems);
  uint32_t users = 0, items = 0;
  std::vector<uint8_t> seen(nodes, 0);
  std::vector<uint32_t> queue;
  queue.reserve(nodes);
  for (uint32_t s : starts) {
    if (seen[s]) continue;
    seen[s] = 1;
    queue.push_back(s);
    for (size_t head = queue.size() - 1; head < queue.size(); ++head) {
      const uint32_t r = queue[head];
      if (r < adj.nUsers)
        order.userId[r] = users++;
      else
        order.itemId[r - adj.nUsers] = items++;
      for (uint64_t e = adj.indptr[r]; e < adj.indptr[r + 1]; ++e)
        if (!seen[adj.cols[e]]) {
          seen[adj.cols[e]] = 1;
          queue.push_back(adj.cols[e]);
        }
    }
  }
  return order;
}

NormalizedAdjacency relabel(const NormalizedAdjacency& adj, const NodeOrder& order) {
  const size_t nodes = adj.nodes();
  NormalizedAdjacency out;
  out.nUsers = adj.nUsers;
  out.nItems = adj.nItems;
  out.originalNode.resize(nodes);
  out.byOriginal.resize(nodes);
  for (size_t r = 0; r < nodes; ++r) {
    out.byOriginal[r] = order.node(uint32_t(r));
    out.originalNode[out.byOriginal[r]] = uint32_t(r);
  }
  out.indptr.assign(nodes + 1, 0);
  for (size_t k = 0; k < nodes; ++k) {
    const uint32_t r = out.originalNode[k];
    out.indptr[k + 1] = out.indptr[k] + (adj.indptr[r + 1] - adj.indptr[r]);
  }
  out.cols.resize(adj.cols.size());
  out.weights.resize(adj.weights.size());
  for (size_t k = 0; k < nodes; ++k) {
    const uint32_t r = out.originalNode[k];
    uint64_t at = out.indptr[k];
    for (uint64_t e = adj.indptr[r]; e < adj.indptr[r + 1]; ++e, ++at) {
      out.cols[at] = order.node(adj.cols[e]);
      out.weights[at] = adj.weights[e];
    }
  }
  return out;
}

Propagation::Propagation(const NormalizedAdjacency* adjacency, uint32_t nUsers, uint32_t nItems, int layers,
                         size_t dim)
    : adj_(adjacency), nUsers_(nUsers), nodes_(size_t(nUsers) + nItems), layers_(layers), dim_(dim) {
  targetFlags_.assign(nodes_, 0);
  tables_.resize(size_t(layers));
  needFlags_.resize(size_t(layers));
  needRows_.resize(size_t(layers));
  for (int l = 0; l < layers; ++l) {
    tables_[size_t(l)] = HugeBuffer(nodes_ * dim);
    needFlags_[size_t(l)].assign(nodes_, 0);
  }
  if (layers > 0) final_ = HugeBuffer(nodes_ * dim);
}

NodeRows Propagation::layer(int l) const {
  if (l == 0) return e0_;
  const float* t = tables_[size_t(l - 1)].data();
  return NodeRows{t, t + size_t(nUsers_) * dim_, nUsers_, dim_};
}

void Propagation::setTargets(const std::vector<uint32_t>& targets) {
  for (uint32_t r : targets_) targetFlags_[r] = 0;
  targets_ = targets;
  for (uint32_t r : targets_) targetFlags_[r] = 1;
}

void Propagation::computeLayers(int threads, size_t finals) {
  if (layers_ == 0) return;
  // Layer l is needed on the targets (for the mean) and on the neighbours of
  // the rows layer l+1 is needed on.
  needFlags_[size_t(layers_ - 1)] = targetFlags_;
  for (int l = layers_ - 1; l >= 1; --l) {
    std::vector<uint8_t>& out = needFlags_[size_t(l - 1)];
    const double targetEdges = l == layers_ - 1 ? edgesOf(*adj_, targets_) : 0;
    if (l == layers_ - 1 && 2 * targetEdges < double(adj_->cols.size())) {
      // Few targets: flag their neighbours from their own edges, each a
      // scattered store of about four float updates' time. Threads may store
      // the same flag: relaxed atomic stores (plain byte moves) keep that defined.
      out = targetFlags_;
      uint8_t* flags = out.data();
      const uint64_t* indptr = adj_->indptr.data();
      const uint32_t* cols = adj_->cols.data();
      parallelFor(threadsFor(threads, 4 * targetEdges), int64_t(targets_.size()), [&](int64_t begin, int64_t end, int) {
        for (int64_t k = begin; k < end; ++k)
          for (uint64_t e = indptr[targets_[size_t(k)]], stop = indptr[targets_[size_t(k)] + 1]; e < stop; ++e)
            __atomic_store_n(flags + cols[e], uint8_t(1), __ATOMIC_RELAXED);
      });
    } else {
      markNeighbours(*adj_, needFlags_[size_t(l)].data(), targetFlags_.data(), out.data(), threads);
    }
  }
  for (int l = 1; l <= layers_; ++l) {
    listFlagged(needFlags_[size_t(l - 1)], needRows_[size_t(l - 1)]);
    gatherRows(*adj_, layer(l - 1), nullptr, nullptr, nullptr, nullptr, tables_[size_t(l - 1)].data(),
               needRows_[size_t(l - 1)], dim_, threads);
  }
  const float scale = float(layers_ + 1);
  finals = std::min(finals, targets_.size());
  parallelFor(threadsFor(threads, double(finals * dim_) * (layers_ + 1)), int64_t(finals),
              [&](int64_t begin, int64_t end, int) {
    // The targets' rows lie scattered: fetch a few targets ahead.
    constexpr int64_t kAhead = 4;
    auto prefetchTarget = [&](uint32_t r) {
      prefetchRow(e0_.row(r), dim_, false);
      for (int l = 1; l <= layers_; ++l) prefetchRow(tables_[size_t(l - 1)].data() + size_t(r) * dim_, dim_, false);
    };
    for (int64_t k = begin; k < std::min(end, begin + kAhead); ++k) prefetchTarget(targets_[size_t(k)]);
    for (int64_t k = begin; k < end; ++k) {
      if (k + kAhead < end) prefetchTarget(targets_[size_t(k + kAhead)]);
      const uint32_t r = targets_[size_t(k)];
      float* f = final_.data() + size_t(r) * dim_;
      std::memcpy(f, e0_.row(r), dim_ * sizeof(float));
      for (int l = 1; l <= layers_; ++l) {
        const float* x = tables_[size_t(l - 1)].data() + size_t(r) * dim_;
#pragma omp simd
        for (size_t d = 0; d < dim_; ++d) f[d] += x[d];
      }
#pragma omp simd
      for (size_t d = 0; d < dim_; ++d) f[d] /= scale;
    }
  });
}

void Propagation::forward(const NodeRows& e0, const std::vector<uint32_t>& targets, int threads, size_t finals) {
  e0_ = e0;
  setTargets(targets);
  computeLayers(threads, finals);
}

void Propagation::carryGradients(const std::vector<uint32_t>& rows, bool layerGradients, size_t finals) {
  if (seedFlags_.empty()) {
    seedFlags_.assign(nodes_, 0);
    seedSlot_.assign(nodes_, 0);
  }
  for (uint32_t r : seedRows_) seedFlags_[r] = 0;
  seedRows_ = rows;
  for (size_t k = 0; k < seedRows_.size(); ++k) {
    seedFlags_[seedRows_[k]] = 1;
    seedSlot_[seedRows_[k]] = uint32_t(k);
  }
  // Without layer gradients dF is every row's G_l.
  finals = layerGradients ? std::min(finals, seedRows_.size()) : seedRows_.size();
  reserveRounded(targetGrad_, finals * dim_);
  targetGrad_.assign(finals * dim_, 0.f);
  layerGradients_ = layerGradients;
  if (layerGradients) {
    layerGrad_.resize(size_t(layers_) + 1);
    for (auto& g : layerGrad_) {
      reserveRounded(g, seedRows_.size() * dim_);
      g.assign(seedRows_.size() * dim_, 0.f);
    }
  }
}

void Propagation::forwardAll(const NodeRows& e0, int threads) {
  std::vector<uint32_t> all(nodes_);
  for (size_t r = 0; r < nodes_; ++r) all[r] = uint32_t(r);
  e0_ = e0;
  setTargets(all);
  computeLayers(threads, SIZE_MAX);
}

void Propagation::backward(int threads) {
  const float scale = float(layers_ + 1);
  for (float& g : targetGrad_) g /= scale;
  if (layerGradients_) {
    for (auto& layer : layerGrad_)
      for (size_t k = 0; k < targetGrad_.size(); ++k) layer[k] += targetGrad_[k];
  }
  // G_l on the gradient rows, compact (row slot[r]).
  auto base = [&](int l) { return layerGradients_ ? layerGrad_[size_t(l)].data() : targetGrad_.data(); };
  const std::vector<uint32_t>& seeds = seedRows_;
  const std::vector<uint8_t>& seedFlags = seedFlags_;  // the rows that carry gradient
  const std::vector<uint32_t>& slot = seedSlot_;
  for (int b = 0; b < 2; ++b) {
    if (grad_[b].empty()) {
      grad_[b] = HugeBuffer(nodes_ * dim_);
      gradFlags_[b].assign(nodes_, 0);
    }
  }
  // H = G_L on the gradient rows. With layer gradients, a row may carry none at
  // layer L (MixGCF's candidates chosen at other layers only): such rows are
  // left out, and the first pass often gathers from the input rows' own edges
  // instead of scanning every edge. An all-zero row adds nothing to any sum.
  gradBuffer_ = 0;
  const float* last = base(layers_);
  if (layerGradients_) {
    std::fill(gradFlags_[0].begin(), gradFlags_[0].end(), 0);
    gradRows_[0].clear();
    for (uint32_t r : seeds)
      if (!isZeroRow(last + size_t(slot[r]) * dim_, dim_)) {
        gradFlags_[0][r] = 1;
        gradRows_[0].push_back(r);
      }
  } else {
    gradFlags_[0] = seedFlags;
    gradRows_[0] = seeds;
  }
  forEachRow(threadsFor(threads, double(gradRows_[0].size() * dim_)), gradRows_[0], [&](uint32_t r) {
    std::memcpy(grad_[0].data() + size_t(r) * dim_, last + size_t(slot[r]) * dim_, dim_ * sizeof(float));
  });
  for (int l = layers_ - 1; l >= 0; --l) {
    const int from = gradBuffer_, to = 1 - gradBuffer_;
    const double allEdges = double(adj_->cols.size());
    const NodeRows h{grad_[from].data(), grad_[from].data() + size_t(nUsers_) * dim_, nUsers_, dim_};
    std::vector<uint32_t>& inRows = gradRows_[from];
    const double inEdges = edgesOf(*adj_, inRows);
    // A bucketed edge costs about three gathered ones (it is counted, moved
    // and summed), and the gather visits every edge of the output rows, most
    // of them masked when few rows carry input.
    if (kBucketEdgeCost * inEdges < allEdges) {
      // By original node: each output row then adds its terms in the original order.
      if (adj_->byOriginal.empty()) {
        std::sort(inRows.begin(), inRows.end());
      } else {
        inRows.clear();
        for (uint32_t r : adj_->byOriginal)
          if (gradFlags_[from][r]) inRows.push_back(r);
      }
      gatherFromRows(*adj_, h, inRows, size_t(inEdges), base(l), slot.data(), seedFlags.data(), grad_[to].data(),
                     gradFlags_[to], gradRows_[to], buckets_, dim_, threads);
    } else {
      markNeighbours(*adj_, gradFlags_[from].data(), seedFlags.data(), gradFlags_[to].data(), threads);
      listFlagged(gradFlags_[to], gradRows_[to]);
      // When nearly every row carries input, zeroing the few others is cheaper
      // than testing the mask at every edge (adding w * 0 changes no sum).
      const bool dense = inRows.size() * kDenseShare >= nodes_ * (kDenseShare - 1);
      if (dense) {
        const uint8_t* carries = gradFlags_[from].data();
        float* g = grad_[from].data();
        for (size_t r = 0; r < nodes_; ++r)
          if (!carries[r]) std::fill(g + r * dim_, g + (r + 1) * dim_, 0.f);
      }
      gatherRows(*adj_, h, dense ? nullptr : gradFlags_[from].data(), base(l), slot.data(), seedFlags.data(),
                 grad_[to].data(), gradRows_[to], dim_, threads);
    }
    gradBuffer_ = to;
  }
}

}  // namespace dtlns
