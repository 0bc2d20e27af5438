// A fixed set of store connections shared by worker threads: a Store is not thread-safe, so
// each thread leases one for the duration of a request and gives it back.
#pragma once

#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "vigie/store/store.h"

namespace vigie::store {

class StorePool {
 public:
  // Opens `size` connections to `url` (migrations are applied by the first).
  static Result<std::unique_ptr<StorePool>> open(const std::string& url, size_t size);

  class Lease {
   public:
    Lease(StorePool& pool, std::unique_ptr<Store> store) : pool_(&pool), store_(std::move(store)) {}
    Lease(Lease&& other) noexcept = default;
    Lease& operator=(Lease&&) = delete;
    Lease(const Lease&) = delete;
    ~Lease() {
      if (store_) pool_->give_back(std::move(store_));
    }
    Store& operator*() { return *store_; }
    Store* operator->() { return store_.get(); }

   private:
    StorePool* pool_;
    std::unique_ptr<Store> store_;
  };

  // Blocks until a connection is free.
  Lease acquire();

 private:
  void give_back(std::unique_ptr<Store> store);

  std::mutex mutex_;
  std::condition_variable available_;
  std::vector<std::unique_ptr<Store>> free_;
};

}  // namespace vigie::store
