// Errors that kernels throw. The binding maps InvalidArgument to a JS RangeError
// and anything else to a plain Error.
#pragma once
#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>

namespace dtlns {

struct InvalidArgument : std::invalid_argument {
  using std::invalid_argument::invalid_argument;
};

// What an id out of [0, bound) is called, wherever it is caught (the binding or a kernel).
inline std::string idOutOfRange(const std::string& name, uint64_t bound, size_t index, int64_t value) {
  return "Expected every value of " + name + " in [0, " + std::to_string(bound) + ") but " + name + "[" +
         std::to_string(index) + "] is " + std::to_string(value);
}

}  // namespace dtlns
