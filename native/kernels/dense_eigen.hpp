// Small dense symmetric eigenproblems (the Rayleigh-Ritz step of kernels/spectral.cpp,
// and whole small graphs).
#pragma once
#include <cstddef>
#include <vector>

namespace dtlns::spectral {

// Cyclic Jacobi on a symmetric m x m row-major matrix (destroyed). Returns the
// eigenvalues; vectors[r * m + j] is component r of eigenvector j.
std::vector<double> jacobiEigen(std::vector<double>& a, size_t m, std::vector<double>& vectors);

// Indices of values, largest first (ties: lower index).
std::vector<size_t> descendingOrder(const std::vector<double>& values);

}  // namespace dtlns::spectral
