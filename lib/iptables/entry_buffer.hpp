#pragma once
// A zeroed, 8-byte aligned byte buffer holding one x_tables entry
// ([ipt_entry|ip6t_entry | match ... | target]). Zeroed because libiptc's delete/check compare raw
// bytes, padding included.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <vector>

namespace tether::iptables {

class EntryBuffer {
 public:
  EntryBuffer() = default;
  explicit EntryBuffer(std::size_t size) : words_((size + 7) / 8, 0), size_(size) {}

  std::uint8_t* data() noexcept { return reinterpret_cast<std::uint8_t*>(words_.data()); }
  const std::uint8_t* data() const noexcept { return reinterpret_cast<const std::uint8_t*>(words_.data()); }
  std::size_t size() const noexcept { return size_; }

  template <class T>
  T* at(std::size_t offset) noexcept {
    return reinterpret_cast<T*>(data() + offset);
  }
  template <class T>
  const T* at(std::size_t offset) const noexcept {
    return reinterpret_cast<const T*>(data() + offset);
  }

  static EntryBuffer copy_of(const void* bytes, std::size_t size) {
    EntryBuffer b(size);
    std::memcpy(b.data(), bytes, size);
    return b;
  }

 private:
  std::vector<std::uint64_t> words_;
  std::size_t size_ = 0;
};

}  // namespace tether::iptables
