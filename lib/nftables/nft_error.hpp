#pragma once
// The error every lib/nftables call throws: a tether::Error whose message names the object and
// the kernel's errno text, with the errno kept so callers branch on ERESTART/EEXIST/ENOENT/EBUSY,
// never on the text.
#include <cerrno>
#include <cstddef>
#include <cstring>
#include <string>
#include <vector>

#include "lib/util/error.hpp"

namespace tether::nftables {

class NftError : public Error {
 public:
  NftError(const std::string& what, int err, int code = 0)
      : Error(what + ": " + std::strerror(err), code), errno_(err) {}
  int errno_value() const noexcept { return errno_; }

 private:
  int errno_;
};

// The kernel has no nf_tables to talk to: no nfnetlink (EPROTONOSUPPORT at socket()), or no
// nf_tables subsystem behind it (EOPNOTSUPP for its messages). Nothing of ours can exist then.
inline bool means_no_nftables(int err) noexcept { return err == EPROTONOSUPPORT || err == EOPNOTSUPP; }

// One failed message of a batch: its index in the batch (as returned by Batch's add/del calls),
// what it was and the kernel's errno.
struct BatchFailure {
  std::size_t index = 0;
  std::string what;
  int err = 0;
};

// A rejected batch. The kernel applied none of it. errno_value() is the first failure's; every
// failure the kernel reported is in failures() (a missing table makes most messages fail with
// ENOENT, a clash only the clashing one). index SIZE_MAX = the batch as a whole (ERESTART: the
// ruleset changed since the generation the batch was guarded with).
class BatchError : public NftError {
 public:
  BatchError(std::vector<BatchFailure> failures, const std::string& summary)
      : NftError(summary, failures.front().err), failures_(std::move(failures)) {}
  const std::vector<BatchFailure>& failures() const noexcept { return failures_; }
  bool any(int err) const noexcept {
    for (const auto& f : failures_)
      if (f.err == err) return true;
    return false;
  }

 private:
  std::vector<BatchFailure> failures_;
};

}  // namespace tether::nftables
