// uma::Error — every failure the engine reports. The message names the problem and the fix; LAMMPS
// glue catches it at the boundary and turns it into one ERROR: line.
#ifndef UMA_MODEL_ERRORS_H
#define UMA_MODEL_ERRORS_H

#include <stdexcept>
#include <string>

namespace uma {

class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& what) : std::runtime_error(what) {}
};

}  // namespace uma

#endif
