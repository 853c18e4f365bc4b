#include "kernels/kmeans_tree.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <memory>
#include <numeric>

#include "kernels/errors.hpp"
#include "kernels/parallel.hpp"
#include "kernels/parallel_dynamic.hpp"
#include "kernels/rng.hpp"

namespace dtlns {
namespace {

// Points per partial sum. Sums are taken per fixed block and combined in block
// order, so they round the same way whatever the thread count.
constexpr size_t kBlock = 2048;
// Points assigned, then summed, while they stay in L1.
constexpr size_t kChunk = 64;
// On a level with fewer nodes to split than threads, nodes at least this large
// are split one at a time with all threads inside; all others are split side
// by side, one thread each.
constexpr size_t kParallelNode = 16384;

// Eight running partial sums (one vector register) and one final reduction:
// cheaper than a per-call SIMD reduction for the short rows k-means works on.
inline float squaredDistance(const float* a, const float* b, size_t dim) {
  float part[8] = {0.f, 0.f, 0.f, 0.f, 0.f, 0.f, 0.f, 0.f};
  size_t d = 0;
  for (; d + 8 <= dim; d += 8)
    for (size_t l = 0; l < 8; ++l) {
      const float t = a[d + l] - b[d + l];
      part[l] += t * t;
    }
  float tail = 0.f;
  for (; d < dim; ++d) {
    const float t = a[d] - b[d];
    tail += t * t;
  }
  return tail + (((part[0] + part[4]) + (part[1] + part[5])) + ((part[2] + part[6]) + (part[3] + part[7])));
}

#if defined(__GNUC__)
// Eight float lanes (one AVX register), so the four accumulators below stay
// in registers whatever the surrounding loop.
typedef float Lanes __attribute__((vector_size(32)));
inline Lanes loadLanes(const float* p) {
  Lanes v;
  std::memcpy(&v, p, sizeof v);
  return v;
}
inline float sumLanes(Lanes v) { return ((v[0] + v[4]) + (v[1] + v[5])) + ((v[2] + v[6]) + (v[3] + v[7])); }
#endif

// out[c] = squared distance from x to centroid c, for c in [0, k): four
// centroids at a time share each load of x (lane-wise sums as in squaredDistance).
inline void squaredDistances(const float* x, const float* centroids, size_t k, size_t dim, float* out) {
  size_t c0 = 0;
#if defined(__GNUC__)
  for (; c0 + 4 <= k && dim % 8 == 0; c0 += 4) {
    const float* c = centroids + c0 * dim;
    Lanes p0 = {}, p1 = {}, p2 = {}, p3 = {};
    for (size_t d = 0; d < dim; d += 8) {
      const Lanes xv = loadLanes(x + d);
      const Lanes t0 = xv - loadLanes(c + d), t1 = xv - loadLanes(c + dim + d);
      const Lanes t2 = xv - loadLanes(c + 2 * dim + d), t3 = xv - loadLanes(c + 3 * dim + d);
      p0 += t0 * t0;
      p1 += t1 * t1;
      p2 += t2 * t2;
      p3 += t3 * t3;
    }
    out[c0] = sumLanes(p0);
    out[c0 + 1] = sumLanes(p1);
    out[c0 + 2] = sumLanes(p2);
    out[c0 + 3] = sumLanes(p3);
  }
#endif
  for (; c0 < k; ++c0) out[c0] = squaredDistance(x, centroids + c0 * dim, dim);
}

// acc[0..width) = sum over i in [0, m) of what add(i, acc) adds, in fixed blocks.
template <class F>
std::vector<double> blockedVectorSum(size_t m, size_t width, int threads, F&& add) {
  const int64_t blocks = int64_t((m + kBlock - 1) / kBlock);
  std::vector<double> partial(size_t(blocks) * width, 0.0);
  parallelFor(threads, blocks, [&](int64_t b0, int64_t b1, int) {
    for (int64_t b = b0; b < b1; ++b) {
      double* acc = partial.data() + size_t(b) * width;
      const size_t end = std::min(m, size_t(b + 1) * kBlock);
      for (size_t i = size_t(b) * kBlock; i < end; ++i) add(i, acc);
    }
  });
  std::vector<double> total(width, 0.0);
  for (int64_t b = 0; b < blocks; ++b)
    for (size_t w = 0; w < width; ++w) total[w] += partial[size_t(b) * width + w];
  return total;
}

struct Split {
  std::vector<std::vector<uint32_t>> clusters;  // non-empty, members ascending
  int32_t iterations = 0;
  int32_t moved = 0;
};

// k-means with k-means++ seeding over m gathered points (m x dim, row-major).
class KMeans {
 public:
  KMeans(const float* y, size_t m, size_t dim, uint32_t k, int threads)
      : y_(y), m_(m), dim_(dim), k_(k), threads_(threads), centroids_(size_t(k) * dim), assign_(m, k) {}

  void seed(Rng& rng) {
    std::vector<float> nearest(m_);
    setCentroid(0, rng.below(uint32_t(m_)));
    parallelFor(threads_, int64_t(m_), [&](int64_t b, int64_t e, int) {
      for (int64_t i = b; i < e; ++i) nearest[i] = squaredDistance(point(i), centroid(0), dim_);
    });
    for (uint32_t c = 1; c < k_; ++c) {
      const double total = blockedVectorSum(m_, 1, threads_, [&](size_t i, double* acc) { acc[0] += nearest[i]; })[0];
      size_t pick = 0;
      if (total > 0) {
        // D^2 sampling: the first point whose running sum passes r.
        const double r = rng.uniform64() * total;
        double running = 0;
        size_t lastPositive = 0;
        bool found = false;
        for (size_t i = 0; i < m_ && !found; ++i) {
          if (nearest[i] > 0) lastPositive = i;
          running += nearest[i];
          if (running > r) {
            pick = i;
            found = true;
          }
        }
        if (!found) pick = lastPositive;
      } else {
        pick = rng.below(uint32_t(m_));  // every point sits on a centroid
      }
      setCentroid(c, pick);
      parallelFor(threads_, int64_t(m_), [&](int64_t b, int64_t e, int) {
        for (int64_t i = b; i < e; ++i) nearest[i] = std::min(nearest[i], squaredDistance(point(i), centroid(c), dim_));
      });
    }
  }

  // Lloyd iterations until no point moves, the squared centroid shift is at
  // most shiftLimit, or maxIter; returns how many ran.
  int32_t lloyd(uint32_t maxIter, double shiftLimit) {
    assignAll();
    int32_t iterations = 0;
    for (uint32_t it = 1; it <= maxIter; ++it) {
      const double shift = updateCentroids();
      const size_t changed = assignAll();
      iterations = int32_t(it);
      if (changed == 0 || shift <= shiftLimit) break;
    }
    updateCentroids();  // centroids of the final assignment (sums from its pass)
    return iterations;
  }

  // Sum of squared distances from the points to their centroids.
  double inertia() const {
    return blockedVectorSum(m_, 1, threads_, [&](size_t i, double* acc) {
      acc[0] += squaredDistance(point(i), centroid(assign_[i]), dim_);
    })[0];
  }

  // Clusters of point positions with no cluster above maxSize: the members
  // farthest from an overfull cluster's centroid move to the smallest cluster.
  std::vector<std::vector<uint32_t>> rebalance(size_t maxSize, int32_t& moved) const {
    std::vector<std::vector<uint32_t>> clusters(k_);
    for (size_t i = 0; i < m_; ++i) clusters[assign_[i]].push_back(uint32_t(i));
    moved = 0;
    for (uint32_t c = 0; c < k_; ++c) {
      if (clusters[c].size() <= maxSize) continue;
      std::vector<std::pair<float, uint32_t>> byDistance;
      byDistance.reserve(clusters[c].size());
      for (uint32_t i : clusters[c]) byDistance.emplace_back(squaredDistance(point(i), centroid(c), dim_), i);
      // Farthest first; ties: the later point first.
      std::sort(byDistance.begin(), byDistance.end(), [](const auto& a, const auto& b) {
        return a.first > b.first || (a.first == b.first && a.second > b.second);
      });
      size_t size = clusters[c].size();
      std::vector<uint8_t> gone(m_, 0);
      for (size_t next = 0; size > maxSize; ++next, --size) {
        uint32_t target = 0;
        for (uint32_t t = 1; t < k_; ++t)
          if (clusters[t].size() < clusters[target].size()) target = t;
        clusters[target].push_back(byDistance[next].second);
        gone[byDistance[next].second] = 1;
        ++moved;
      }
      auto& kept = clusters[c];
      kept.erase(std::remove_if(kept.begin(), kept.end(), [&](uint32_t i) { return gone[i] != 0; }), kept.end());
    }
    return clusters;
  }

 private:
  const float* point(size_t i) const { return y_ + i * dim_; }
  float* centroid(uint32_t c) { return centroids_.data() + size_t(c) * dim_; }
  const float* centroid(uint32_t c) const { return centroids_.data() + size_t(c) * dim_; }
  void setCentroid(uint32_t c, size_t i) { std::copy(point(i), point(i) + dim_, centroid(c)); }

  // Nearest centroid of every point (ties: the lower cluster); returns how
  // many changed. The same pass sums each fixed block's points per new
  // cluster for updateCentroids, a chunk at a time while the chunk is in L1
  // (one read of the points per Lloyd iteration).
  size_t assignAll() {
    const size_t width = size_t(k_) * (dim_ + 1), counts = size_t(k_) * dim_;
    const int64_t blocks = int64_t((m_ + kBlock - 1) / kBlock);
    partial_.assign(size_t(blocks) * width, 0.0);
    std::vector<size_t> changed(size_t(blocks), 0);
    parallelFor(threads_, blocks, [&](int64_t b0, int64_t b1, int) {
      std::vector<float> dist(k_);
      for (int64_t blk = b0; blk < b1; ++blk) {
        double* acc = partial_.data() + size_t(blk) * width;
        const size_t end = std::min(m_, size_t(blk + 1) * kBlock);
        for (size_t c0 = size_t(blk) * kBlock; c0 < end; c0 += kChunk) {
          const size_t c1 = std::min(end, c0 + kChunk);
          for (size_t i = c0; i < c1; ++i) {
            squaredDistances(point(i), centroids_.data(), k_, dim_, dist.data());
            uint32_t best = 0;
            for (uint32_t c = 1; c < k_; ++c)
              if (dist[c] < dist[best]) best = c;
            if (assign_[i] != best) {
              assign_[i] = best;
              ++changed[size_t(blk)];
            }
          }
          for (size_t i = c0; i < c1; ++i) {
            double* row = acc + size_t(assign_[i]) * dim_;
            const float* x = point(i);
            for (size_t d = 0; d < dim_; ++d) row[d] += x[d];
            acc[counts + assign_[i]] += 1.0;
          }
        }
      }
    });
    return std::accumulate(changed.begin(), changed.end(), size_t{0});
  }

  // Centroids = member means of the last assignment, the block sums combined
  // in block order (an empty cluster keeps its centroid); returns the squared shift.
  double updateCentroids() {
    const size_t width = size_t(k_) * (dim_ + 1), counts = size_t(k_) * dim_;
    std::vector<double> sums(width, 0.0);
    for (size_t b = 0; b < partial_.size() / width; ++b)
      for (size_t w = 0; w < width; ++w) sums[w] += partial_[b * width + w];
    double shift = 0;
    for (uint32_t c = 0; c < k_; ++c) {
      const double* row = sums.data() + size_t(c) * dim_;
      const double count = sums[counts + c];
      if (count == 0) continue;
      float* cc = centroid(c);
      for (size_t d = 0; d < dim_; ++d) {
        const float mean = float(row[d] / count);
        const double delta = double(mean) - double(cc[d]);
        shift += delta * delta;
        cc[d] = mean;
      }
    }
    return shift;
  }

  const float* y_;
  size_t m_, dim_;
  uint32_t k_;
  int threads_;
  std::vector<float> centroids_;
  std::vector<uint32_t> assign_;
  std::vector<double> partial_;  // per block: k x dim sums, then k counts
};

// The mean over dimensions of the per-dimension variance of m points.
double meanVariance(const float* y, size_t m, size_t dim, int threads) {
  std::vector<double> mean = blockedVectorSum(m, dim, threads, [&](size_t i, double* acc) {
    for (size_t d = 0; d < dim; ++d) acc[d] += y[i * dim + d];
  });
  for (double& v : mean) v /= double(m);
  const std::vector<double> sq = blockedVectorSum(m, dim, threads, [&](size_t i, double* acc) {
    for (size_t d = 0; d < dim; ++d) {
      const double t = y[i * dim + d] - mean[d];
      acc[d] += t * t;
    }
  });
  double total = 0;
  for (double v : sq) total += v / double(m);
  return total / double(dim);
}

// The largest child allowed: 1.6x the average (floor, in exact integer
// arithmetic), but never below the ceiling of the average.
size_t maxChildSize(size_t m, uint32_t branching) {
  const size_t ceilAverage = (m + branching - 1) / branching;
  return std::max(ceilAverage, (16 * m) / (size_t(10) * branching));
}

Split splitNode(const float* points, size_t dim, const uint32_t* members, size_t m, uint64_t nodeId,
                const BalancedTreeOptions& opt, int threads) {
  Split split;
  if (m <= opt.branching) {
    for (size_t i = 0; i < m; ++i) split.clusters.push_back({members[i]});
    return split;
  }
  std::vector<float> y(m * dim);
  parallelFor(threads, int64_t(m), [&](int64_t b, int64_t e, int) {
    for (int64_t i = b; i < e; ++i) std::copy(points + size_t(members[i]) * dim, points + size_t(members[i] + 1) * dim, y.data() + size_t(i) * dim);
  });
  // nInit k-means++ runs from the node's stream; the lowest inertia wins (the first on ties).
  Rng rng(opt.seed, nodeId);
  const double shiftLimit = opt.tolerance * meanVariance(y.data(), m, dim, threads);
  std::unique_ptr<KMeans> best;
  double bestInertia = 0;
  for (uint32_t run = 0; run < opt.nInit; ++run) {
    auto km = std::make_unique<KMeans>(y.data(), m, dim, opt.branching, threads);
    km->seed(rng);
    split.iterations += km->lloyd(opt.maxIter, shiftLimit);
    const double inertia = km->inertia();
    if (!best || inertia < bestInertia) {
      best = std::move(km);
      bestInertia = inertia;
    }
  }
  for (auto& cluster : best->rebalance(maxChildSize(m, opt.branching), split.moved)) {
    if (cluster.empty()) continue;
    for (uint32_t& i : cluster) i = members[i];
    std::sort(cluster.begin(), cluster.end());
    split.clusters.push_back(std::move(cluster));
  }
  return split;
}

struct Node {
  uint32_t begin, end;
  int32_t parent, depth, childIndex;
};

}  // namespace

BalancedTree buildBalancedTree(const float* points, size_t n, size_t dim, const BalancedTreeOptions& opt) {
  if (n == 0 || n >= (size_t(1) << 31)) throw InvalidArgument("n must be in [1, 2^31)");
  if (dim == 0) throw InvalidArgument("dim must be at least 1");
  if (opt.branching < 2) throw InvalidArgument("branching must be at least 2");
  if (opt.leafSize < 1) throw InvalidArgument("leafSize must be at least 1");
  if (opt.maxIter < 1) throw InvalidArgument("maxIter must be at least 1");
  if (opt.nInit < 1) throw InvalidArgument("nInit must be at least 1");

  std::vector<uint32_t> order(n);
  std::iota(order.begin(), order.end(), 0u);
  std::vector<Node> nodes{{0, uint32_t(n), -1, 0, -1}};
  std::vector<int32_t> firstChild{-1}, childCount{0}, iterations{0}, moved{0};
  std::vector<uint32_t> level{0};

  while (!level.empty()) {
    std::vector<Split> splits(level.size());
    std::vector<size_t> toSplit, sideBySide;
    for (size_t j = 0; j < level.size(); ++j)
      if (nodes[level[j]].end - nodes[level[j]].begin > opt.leafSize) toSplit.push_back(j);
    const bool fewNodes = toSplit.size() < size_t(opt.threads);
    for (size_t j : toSplit) {
      const Node& node = nodes[level[j]];
      const size_t m = node.end - node.begin;
      if (fewNodes && m >= kParallelNode)
        splits[j] = splitNode(points, dim, order.data() + node.begin, m, level[j], opt, opt.threads);
      else
        sideBySide.push_back(j);
    }
    dynamicFor(opt.threads, int64_t(sideBySide.size()), [&](int64_t s, int) {
      const size_t j = sideBySide[size_t(s)];
      const Node& node = nodes[level[j]];
      splits[j] = splitNode(points, dim, order.data() + node.begin, node.end - node.begin, level[j], opt, 1);
    });

    std::vector<uint32_t> next;
    for (size_t j = 0; j < level.size(); ++j) {
      if (splits[j].clusters.empty()) continue;  // a leaf
      const uint32_t id = level[j];
      const Node parent = nodes[id];
      firstChild[id] = int32_t(nodes.size());
      childCount[id] = int32_t(splits[j].clusters.size());
      iterations[id] = splits[j].iterations;
      moved[id] = splits[j].moved;
      uint32_t begin = parent.begin;
      for (size_t c = 0; c < splits[j].clusters.size(); ++c) {
        const auto& cluster = splits[j].clusters[c];
        std::copy(cluster.begin(), cluster.end(), order.begin() + begin);
        next.push_back(uint32_t(nodes.size()));
        nodes.push_back({begin, begin + uint32_t(cluster.size()), int32_t(id), parent.depth + 1, int32_t(c)});
        firstChild.push_back(-1);
        childCount.push_back(0);
        iterations.push_back(0);
        moved.push_back(0);
        begin += uint32_t(cluster.size());
      }
    }
    level.swap(next);
  }

  BalancedTree tree;
  const size_t nNodes = nodes.size();
  tree.firstChild = std::move(firstChild);
  tree.childCount = std::move(childCount);
  tree.iterations = std::move(iterations);
  tree.moved = std::move(moved);
  tree.parent.resize(nNodes);
  tree.depth.resize(nNodes);
  tree.childIndex.resize(nNodes);
  tree.size.resize(nNodes);
  for (size_t v = 0; v < nNodes; ++v) {
    tree.parent[v] = nodes[v].parent;
    tree.depth[v] = nodes[v].depth;
    tree.childIndex[v] = nodes[v].childIndex;
    tree.size[v] = int32_t(nodes[v].end - nodes[v].begin);
  }

  tree.leafOf.assign(n, -1);
  tree.lengths.assign(n, 0);
  for (size_t v = 0; v < nNodes; ++v) {
    if (tree.childCount[v] != 0) continue;
    for (uint32_t p = nodes[v].begin; p < nodes[v].end; ++p) {
      tree.leafOf[order[p]] = int32_t(v);
      tree.lengths[order[p]] = nodes[v].depth;
    }
    tree.maxDepth = std::max(tree.maxDepth, uint32_t(nodes[v].depth));
  }
  const size_t width = tree.maxDepth;
  tree.paths.assign(n * width, -1);
  for (size_t i = 0; i < n; ++i)
    for (int32_t v = tree.leafOf[i]; nodes[v].parent >= 0; v = nodes[v].parent)
      tree.paths[i * width + size_t(nodes[v].depth - 1)] = nodes[v].childIndex;

  tree.centroids.assign(nNodes * dim, 0.f);
  parallelFor(opt.threads, int64_t(nNodes), [&](int64_t b, int64_t e, int) {
    std::vector<double> sum(dim);
    for (int64_t v = b; v < e; ++v) {
      std::fill(sum.begin(), sum.end(), 0.0);
      for (uint32_t p = nodes[v].begin; p < nodes[v].end; ++p)
        for (size_t d = 0; d < dim; ++d) sum[d] += points[size_t(order[p]) * dim + d];
      const double count = double(nodes[v].end - nodes[v].begin);
      for (size_t d = 0; d < dim; ++d) tree.centroids[size_t(v) * dim + d] = float(sum[d] / count);
    }
  });
  return tree;
}

}  // namespace dtlns
