// Errors that kernels throw. The binding maps InvalidArgument to a JS RangeError
// and anything else to a plain Error.
#pragma once
#include <stdexcept>
#include <string>

namespace dtlns {

struct InvalidArgument : std::invalid_argument {
  using std::invalid_argument::invalid_argument;
};

}  // namespace dtlns
