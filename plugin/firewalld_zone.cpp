#include "plugin/firewalld_zone.hpp"

#include <chrono>

#include "lib/firewalld/client.hpp"

namespace tether::plugin {
namespace {

// A CNI verb waits at most this long for firewalld, which serves one request at a time.
constexpr std::chrono::milliseconds kCallTimeout{5000};

class FirewalldZone final : public TrustedZone {
 public:
  explicit FirewalldZone(firewalld::Client client) : client_(std::move(client)) {}
  void trust(const std::string& cidr) override { client_.trust_source(cidr); }
  void untrust(const std::string& cidr) override { client_.untrust_source(cidr); }
  bool trusted(const std::string& cidr) override { return client_.is_trusted(cidr); }

 private:
  firewalld::Client client_;
};

}  // namespace

std::unique_ptr<TrustedZone> firewalld_trusted_zone() {
  auto client = firewalld::Client::connect_if_running(kCallTimeout);
  if (!client) return nullptr;
  return std::make_unique<FirewalldZone>(std::move(*client));
}

}  // namespace tether::plugin
