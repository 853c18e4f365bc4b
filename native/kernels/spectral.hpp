// Structural item features (the DTL-NS structural tree's input): the item-item
// Jaccard co-occurrence graph of the training interactions, and the leading
// eigenvectors of its normalised adjacency N = D^-1/2 J D^-1/2 after the
// trivial one (D^1/2 1), i.e. the smallest non-trivial ones of the normalised
// Laplacian I - N.
#pragma once
#include <cstddef>
#include <cstdint>
#include <vector>

namespace dtlns {

// A sparse square matrix in CSR with float values.
struct SparseMatrixView {
  const uint32_t* indptr = nullptr;  // n + 1 entries
  const uint32_t* indices = nullptr;
  const float* values = nullptr;
  size_t n = 0;
};

struct JaccardGraph {
  std::vector<uint32_t> indptr, indices;  // rows ascending by column, no diagonal
  std::vector<float> values;
};

// J(i,j) = |U_i ∩ U_j| / |U_i ∪ U_j| for every pair of distinct items sharing a
// user, from a users x items CSR with strictly ascending columns per row.
// topK > 0 keeps each item's topK neighbours (largest J, then lower index) and
// symmetrises by union: (i,j) stays if either keeps the other; 0 keeps all.
JaccardGraph jaccardGraph(const uint32_t* indptr, const uint32_t* indices, size_t nUsers, size_t nItems, uint32_t topK,
                          int threads);

struct SpectralOptions {
  uint32_t dims = 32;
  // Krylov block: eigenvalues repeated up to this many times are all found.
  uint32_t blockSize = 8;
  // Basis vectors kept before a thick restart (0: automatic).
  uint32_t basisSize = 0;
  uint32_t maxRestarts = 300;
  // Converged when every wanted Ritz pair has ||N y - theta y|| <= tolerance.
  double tolerance = 1e-5;
  uint64_t seed = 0;
  int threads = 1;
};

struct SpectralResult {
  std::vector<float> features;  // n x dims, row-major: row i = item i
  std::vector<double> eigenvalues, residuals;  // descending eigenvalues of N
  uint32_t restarts = 0;
  uint64_t products = 0;  // matrix-vector products with N
  bool converged = false;
  bool dense = false;  // small graphs are solved densely
};

// The matrix must be symmetric with non-negative values; rows of zeros (items
// with no neighbour) are allowed. dims must be < n.
SpectralResult spectralEmbedding(const SparseMatrixView& a, const SpectralOptions& options);

}  // namespace dtlns
