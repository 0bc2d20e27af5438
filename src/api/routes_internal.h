// HTTP routing, independent of the transport so that it is tested without sockets.
#pragma once

#include <map>
#include <string>
#include <string_view>

namespace vigie::store {
class Store;
}

namespace vigie::api {

struct Response {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
};

// RFC 9457 problem details (application/problem+json).
Response problem(int status, std::string_view title, std::string_view detail);

// What a route sees of a request. Header names are lower-case. Only the sync routes read the
// body and the Authorization header; every other route stays read-only GET.
struct Request {
  std::string method;
  std::string target;
  std::string body;
  std::map<std::string, std::string> headers;
  std::string peer;  // "address:port", for the audit log
};

Response route(store::Store& store, const Request& request);
// A GET/HEAD without body or headers (the read-only routes).
Response route(store::Store& store, const std::string& method, const std::string& target);

}  // namespace vigie::api
