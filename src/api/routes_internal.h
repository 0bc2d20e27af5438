// HTTP routing, independent of the transport so that it is tested without sockets.
#pragma once

#include <string>

namespace vigie::store {
class Store;
}

namespace vigie::api {

struct Response {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
};

Response route(store::Store& store, const std::string& method, const std::string& target);

}  // namespace vigie::api
