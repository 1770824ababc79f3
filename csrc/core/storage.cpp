#include "storage.h"

#include <cstdlib>
#include <cstring>
#include <mutex>
#include <new>
#include <unordered_map>
#include <vector>

#include "check.h"

namespace pynn {
namespace {

// Round a request up to its size class: multiples of 64 bytes up to 1 KiB,
// then 4 classes per power of two.
// Requests above this fail as std::bad_alloc up front: no machine has that
// much memory, and the rounding below would overflow near INT64_MAX.
constexpr int64_t kMaxRequest = int64_t{1} << 60;

int64_t size_class(int64_t nbytes) {
  if (nbytes <= 1024) return nbytes <= 64 ? 64 : (nbytes + 63) / 64 * 64;
  int64_t p = int64_t{1} << (63 - __builtin_clzll(static_cast<uint64_t>(nbytes - 1)));  // < nbytes <= 2p
  int64_t step = p / 4;
  return (nbytes + step - 1) / step * step;
}

struct Allocator {
  std::mutex mu;
  std::unordered_map<int64_t, std::vector<void*>> free_blocks;
  MemoryStats stats{0, 0, 0, int64_t{2} << 30, 0, 0, 0};

  void* allocate(int64_t nbytes) {
    if (nbytes > kMaxRequest) throw std::bad_alloc();
    int64_t cls = size_class(nbytes);
    {
      std::lock_guard<std::mutex> lock(mu);
      ++stats.num_allocs;
      stats.allocated_bytes += cls;
      if (stats.allocated_bytes > stats.peak_bytes) stats.peak_bytes = stats.allocated_bytes;
      auto it = free_blocks.find(cls);
      if (it != free_blocks.end() && !it->second.empty()) {
        void* p = it->second.back();
        it->second.pop_back();
        stats.cached_bytes -= cls;
        ++stats.num_cache_hits;
        return p;
      }
      ++stats.num_os_allocs;
    }
    void* p = std::aligned_alloc(kAlignment, static_cast<size_t>(cls));
    if (!p) {
      // Give the cache back and try once more before failing.
      release_cache();
      p = std::aligned_alloc(kAlignment, static_cast<size_t>(cls));
    }
    if (!p) {
      std::lock_guard<std::mutex> lock(mu);
      stats.allocated_bytes -= cls;
      throw std::bad_alloc();
    }
    return p;
  }

  // Runs in ~Storage, so nothing may escape (an exception there calls
  // std::terminate): when keeping the block in the cache fails (the cache's
  // own vector cannot grow), the block goes back to the OS instead.
  void deallocate(void* p, int64_t nbytes) noexcept {
    int64_t cls = size_class(nbytes);
    try {
      std::lock_guard<std::mutex> lock(mu);
      stats.allocated_bytes -= cls;
      if (stats.cached_bytes + cls <= stats.cache_limit_bytes) {
        free_blocks[cls].push_back(p);
        stats.cached_bytes += cls;
        return;
      }
    } catch (...) {
    }
    std::free(p);
  }

  void release_cache() {
    std::vector<void*> to_free;
    {
      std::lock_guard<std::mutex> lock(mu);
      for (auto& kv : free_blocks) {
        to_free.insert(to_free.end(), kv.second.begin(), kv.second.end());
        kv.second.clear();
      }
      stats.cached_bytes = 0;
    }
    for (void* p : to_free) std::free(p);
  }
};

Allocator& allocator() {
  // Leaked on purpose: storages may be released during interpreter shutdown.
  static Allocator* a = new Allocator();
  return *a;
}

void release_allocated(void*, void* data, int64_t nbytes) noexcept { allocator().deallocate(data, nbytes); }

}  // namespace

StoragePtr storage_allocate(int64_t nbytes) {
  PYNN_ASSERT(nbytes >= 0);
  void* p = allocator().allocate(nbytes);
  return std::make_shared<Storage>(p, nbytes, &release_allocated, nullptr);
}

StoragePtr storage_wrap(void* data, int64_t nbytes, Storage::Release release, void* ctx) {
  return std::make_shared<Storage>(data, nbytes, release, ctx);
}

MemoryStats memory_stats() {
  Allocator& a = allocator();
  std::lock_guard<std::mutex> lock(a.mu);
  return a.stats;
}

void memory_empty_cache() { allocator().release_cache(); }

void memory_set_cache_limit(int64_t bytes) {
  Allocator& a = allocator();
  {
    std::lock_guard<std::mutex> lock(a.mu);
    a.stats.cache_limit_bytes = bytes < 0 ? 0 : bytes;
  }
  if (memory_stats().cached_bytes > bytes) a.release_cache();
}

void memory_reset_peak() {
  Allocator& a = allocator();
  std::lock_guard<std::mutex> lock(a.mu);
  a.stats.peak_bytes = a.stats.allocated_bytes;
}

}  // namespace pynn
