#include "lib/nftables/udata.hpp"

#include <cstring>

#include "lib/util/error.hpp"

namespace tether::nftables {

void UdataWriter::put_bytes(std::uint8_t type, const Bytes& value) {
  if (value.size() > 255)
    throw Error("nftables: userdata value of " + std::to_string(value.size()) + " bytes (max 255)");
  buf_.push_back(type);
  buf_.push_back(static_cast<std::uint8_t>(value.size()));
  buf_.insert(buf_.end(), value.begin(), value.end());
}

void UdataWriter::put_u32(std::uint8_t type, std::uint32_t v) {
  Bytes b(4);
  std::memcpy(b.data(), &v, 4);  // host order, as nftnl_udata_put_u32
  put_bytes(type, b);
}

void UdataWriter::put_string(std::uint8_t type, std::string_view s) {
  Bytes b(s.begin(), s.end());
  b.push_back(0);
  put_bytes(type, b);
}

std::string clamp_comment(std::string_view text) {
  if (text.size() <= kMaxComment) return std::string(text);
  std::size_t end = kMaxComment;
  // Step back over continuation bytes (10xxxxxx) and the lead byte of a cut sequence.
  while (end > 0 && (static_cast<unsigned char>(text[end]) & 0xc0) == 0x80) --end;
  return std::string(text.substr(0, end));
}

Bytes comment_udata(std::string_view comment) {
  UdataWriter w;
  w.put_string(0, clamp_comment(comment));
  return w.bytes();
}

std::optional<std::string_view> comment_view(std::span<const std::uint8_t> udata) {
  std::size_t i = 0;
  while (i + 2 <= udata.size()) {
    const std::uint8_t type = udata[i], len = udata[i + 1];
    if (i + 2 + len > udata.size()) return std::nullopt;
    if (type == 0) {
      const char* p = reinterpret_cast<const char*>(udata.data() + i + 2);
      return std::string_view(p, strnlen(p, len));
    }
    i += 2 + len;
  }
  return std::nullopt;
}

std::optional<std::string> comment_of(const Bytes& udata) {
  const auto view = comment_view(udata);
  return view ? std::optional<std::string>(*view) : std::nullopt;
}

}  // namespace tether::nftables
