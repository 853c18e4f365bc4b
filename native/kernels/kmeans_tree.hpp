// Balanced hierarchical k-means (the DTL-NS index tree): every node with more
// than `leafSize` items is split by k-means (k-means++ seeding, Lloyd
// iterations) into at most `branching` children; a child larger than 1.6x the
// average gives its members farthest from its centroid to the smallest child.
// Nodes are numbered level by level (breadth first) and node `id` draws from
// Rng(seed, id), so the tree depends only on the input and the seed, never on
// the thread count.
#pragma once
#include <cstddef>
#include <cstdint>
#include <vector>

namespace dtlns {

struct BalancedTreeOptions {
  uint32_t branching = 4;
  uint32_t leafSize = 30;
  uint32_t maxIter = 300;
  // k-means++ runs per node; the one with the lowest inertia is kept.
  uint32_t nInit = 1;
  // Lloyd stops when the squared centroid shift is <= tolerance x the mean
  // per-dimension variance of the node's points (scikit-learn's rule).
  double tolerance = 1e-4;
  uint64_t seed = 0;
  int threads = 1;
};

struct BalancedTree {
  uint32_t maxDepth = 0;
  // Per item: child index per level, row-major nItems x maxDepth, -1 padded.
  std::vector<int32_t> paths;
  std::vector<int32_t> lengths;
  std::vector<int32_t> leafOf;
  // Per node, in breadth-first order (node 0 is the root; children of a node
  // have consecutive ids starting at firstChild).
  std::vector<int32_t> parent, depth, childIndex, firstChild, childCount, size;
  std::vector<int32_t> iterations;  // Lloyd iterations run at an internal node (all runs)
  std::vector<int32_t> moved;       // items moved by rebalancing at an internal node
  std::vector<float> centroids;     // nodes x dim: the mean of each node's items
};

BalancedTree buildBalancedTree(const float* points, size_t n, size_t dim, const BalancedTreeOptions& options);

}  // namespace dtlns
