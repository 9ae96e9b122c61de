#pragma once

#include <stdexcept>
#include <string>

namespace pstable {

/// Base of every exception pstable throws. Catch this to handle any pstable failure.
class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& message) : std::runtime_error(message) {}
};

/// A parameter or argument has a value the call cannot accept (k <= 0, negative thread count, ...).
class InvalidArgument : public Error {
 public:
  using Error::Error;
};

/// Matrices or vectors whose dimensions disagree with each other or with the index.
class DimensionMismatch : public InvalidArgument {
 public:
  using InvalidArgument::InvalidArgument;
};

/// Values the metric cannot handle: NaN or infinity, or a zero vector under cosine.
class InvalidData : public InvalidArgument {
 public:
  using InvalidArgument::InvalidArgument;
};

/// The call needs a state the object is not in (searching an empty index, ...).
class InvalidState : public Error {
 public:
  using Error::Error;
};

/// A file could not be opened, read or written.
class IoError : public Error {
 public:
  using Error::Error;
};

/// A file was read but its content is malformed, truncated, corrupted, foreign or too new.
class FormatError : public IoError {
 public:
  using IoError::IoError;
};

}  // namespace pstable
