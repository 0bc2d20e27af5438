#include "vigie/store/pool.h"

namespace vigie::store {

Result<std::unique_ptr<StorePool>> StorePool::open(const std::string& url, size_t size) {
  auto pool = std::make_unique<StorePool>();
  for (size_t i = 0; i < std::max<size_t>(size, 1); ++i) {
    auto s = Store::open(url);
    if (!s) return tl::unexpected(s.error());
    pool->free_.push_back(std::move(*s));
  }
  return pool;
}

StorePool::Lease StorePool::acquire() {
  std::unique_lock lock(mutex_);
  available_.wait(lock, [&] { return !free_.empty(); });
  auto store = std::move(free_.back());
  free_.pop_back();
  return {*this, std::move(store)};
}

void StorePool::give_back(std::unique_ptr<Store> store) {
  {
    std::lock_guard lock(mutex_);
    free_.push_back(std::move(store));
  }
  available_.notify_one();
}

}  // namespace vigie::store
