// storage.h: refcounted, 64-byte-aligned memory and the caching allocator.
//
// Note [Caching allocator]
// Faulting in fresh pages costs more than the arithmetic on large arrays, and
// glibc hands large blocks back to the OS on every free. So storage comes from
// a cache of freed blocks kept by size class (four classes per power of two,
// so at most 25% waste) and reused. The cache is bounded: past
// cache_limit_bytes the freed block goes back to the OS. memory_stats()
// reports it. Foreign memory (a NumPy array's) is wrapped, not copied: its
// release callback drops the reference that keeps the owner alive.
#pragma once

#include <cstdint>
#include <memory>

namespace pynn {

constexpr int64_t kAlignment = 64;

struct Storage {
  using Release = void (*)(void* ctx, void* data, int64_t nbytes);

  Storage(void* data, int64_t nbytes, Release release, void* ctx)
      : data(data), nbytes(nbytes), release(release), ctx(ctx) {}
  // Destructors are noexcept: every Release must not throw (the allocator's
  // and the NumPy owner's release are written so).
  ~Storage() { release(ctx, data, nbytes); }
  Storage(const Storage&) = delete;
  Storage& operator=(const Storage&) = delete;

  void* data;
  int64_t nbytes;
  Release release;
  void* ctx;
};

using StoragePtr = std::shared_ptr<Storage>;

StoragePtr storage_allocate(int64_t nbytes);
StoragePtr storage_wrap(void* data, int64_t nbytes, Storage::Release release, void* ctx);

struct MemoryStats {
  int64_t allocated_bytes;  // held by live storages (rounded to size classes)
  int64_t cached_bytes;     // freed blocks kept for reuse
  int64_t peak_bytes;       // max of allocated_bytes since start or reset
  int64_t cache_limit_bytes;
  int64_t num_allocs;       // storage_allocate calls
  int64_t num_cache_hits;   // ... served from the cache
  int64_t num_os_allocs;    // ... that asked the OS
};

MemoryStats memory_stats();
void memory_empty_cache();
void memory_set_cache_limit(int64_t bytes);
void memory_reset_peak();

}  // namespace pynn
