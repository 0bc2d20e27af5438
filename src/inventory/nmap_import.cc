// nmap XML (-oX): the streaming reader (read_nmap) and the import on top of it. A host
// matching a known device (by IP, else MAC) updates that device's interface and open ports; an
// unknown host becomes an "unidentified" device.
#include <expat.h>
#include <fmt/format.h>

#include <charconv>
#include <cstdio>
#include <cstring>

#include "import_internal.h"
#include "vigie/core/file.h"
#include "vigie/core/time.h"
#include "vigie/inventory/nmap_scan.h"

namespace vigie::inventory {
namespace {

using core::ErrorCode;

constexpr size_t kChunk = 1 << 20;
constexpr size_t kMaxPortsPerHost = 131072;  // every TCP and UDP port
constexpr int kMaxDepth = 64;

// The <host> being read: what read_nmap hands over, and the parser's own state.
struct HostScan : ScannedHost {
  std::string state;
  OpenPort port;  // the <port> being read
  bool in_port = false;
  bool in_host = false;
};

struct Parser {
  Parser(const NmapHandlers& h, std::string f) : handlers(h), file(std::move(f)) {}
  const NmapHandlers& handlers;
  std::string file;
  XML_Parser xml = nullptr;
  HostScan host;
  int depth = 0;
  bool stop = false;

  std::string where(size_t line, std::string_view element) const {
    return fmt::format("{}:{} <{}>", file, line, element);
  }

  size_t line() const { return XML_GetCurrentLineNumber(xml); }

  void halt() {
    stop = true;
    XML_StopParser(xml, XML_FALSE);
  }

  void reject(std::string message, std::string where_text) {
    if (!handlers.on_error({ErrorCode::kInvalidInput, std::move(message), std::move(where_text)})) {
      halt();
    }
  }

  static const char* attr(const XML_Char** atts, std::string_view name) {
    for (int i = 0; atts[i] != nullptr; i += 2) {
      if (name == atts[i]) return atts[i + 1];
    }
    return nullptr;
  }

  void start(std::string_view name, const XML_Char** atts) {
    if (++depth > kMaxDepth) return reject("XML nested too deeply", where(line(), name));
    if (name == "host") {
      host = HostScan{};
      host.in_host = true;
      host.line = line();
      if (const char* t = attr(atts, "starttime")) {
        std::int64_t secs = 0;
        std::from_chars(t, t + std::strlen(t), secs);
        if (secs > 0) {
          host.seen_at = core::format_utc(core::TimePoint(std::chrono::seconds(secs)));
        }
      }
      return;
    }
    if (!host.in_host) return;
    if (name == "status") {
      if (const char* s = attr(atts, "state")) host.state = s;
    } else if (name == "address") {
      const char* addr = attr(atts, "addr");
      const char* type = attr(atts, "addrtype");
      if (addr == nullptr || type == nullptr) {
        return reject("address without addr or addrtype", where(line(), name));
      }
      std::string_view t = type;
      if (t == "mac") {
        auto mac = canonical_mac(addr);
        if (!mac)
          return reject(fmt::format("'{}' is not a MAC address", addr), where(line(), name));
        host.mac = *mac;
        if (const char* v = attr(atts, "vendor")) host.mac_vendor = v;
      } else {
        auto ip = canonical_ip(addr);
        if (!ip) return reject(fmt::format("'{}' is not an IP address", addr), where(line(), name));
        (t == "ipv6" ? host.ipv6 : host.ipv4) = *ip;
      }
    } else if (name == "hostname") {
      const char* n = attr(atts, "name");
      const char* type = attr(atts, "type");
      // A name the user gave wins over a reverse-DNS one.
      if (n != nullptr &&
          (host.hostname.empty() || (type != nullptr && std::string_view(type) == "user"))) {
        host.hostname = n;
      }
    } else if (name == "port") {
      host.in_port = true;
      host.port = OpenPort{};
      const char* proto = attr(atts, "protocol");
      const char* id = attr(atts, "portid");
      int port = -1;
      if (id != nullptr) {
        auto [end, ec] = std::from_chars(id, id + std::strlen(id), port);
        if (ec != std::errc() || *end != '\0') port = -1;
      }
      std::string_view p = proto != nullptr ? proto : "";
      if (port < 0 || port > 65535) {
        host.in_port = false;
        return reject(fmt::format("portid '{}' is not a port number", id != nullptr ? id : ""),
                      where(line(), name));
      }
      if (p != "tcp" && p != "udp" && p != "sctp") {
        host.in_port = false;
        return reject(fmt::format("protocol '{}' is not tcp, udp or sctp", p), where(line(), name));
      }
      host.port.protocol = p;
      host.port.port = port;
    } else if (name == "state" && host.in_port) {
      if (const char* s = attr(atts, "state")) host.port.state = s;
    } else if (name == "service" && host.in_port) {
      if (const char* s = attr(atts, "name")) host.port.service = s;
      std::string product;
      if (const char* s = attr(atts, "product")) product = s;
      if (const char* s = attr(atts, "version"))
        product += product.empty() ? s : std::string(" ") + s;
      host.port.service_product = product;
    } else if (name == "osmatch" && host.os.empty()) {
      if (const char* s = attr(atts, "name")) host.os = s;
    }
  }

  void end(std::string_view name) {
    --depth;
    if (name == "port" && host.in_port) {
      host.in_port = false;
      if (host.port.state.starts_with("open")) {
        if (host.ports.size() >= kMaxPortsPerHost) {
          return reject("too many ports for one host", where(line(), name));
        }
        host.ports.push_back(host.port);
      }
    } else if (name == "host" && host.in_host) {
      host.in_host = false;
      finish_host();
    }
  }

  void finish_host() {
    if (host.state != "up") return;  // down hosts tell nothing about devices
    std::string ip = host.ipv4.empty() ? host.ipv6 : host.ipv4;
    if (ip.empty()) return reject("host without an IP address", where(host.line, "host"));
    for (auto& p : host.ports) {
      p.ip = ip;
      p.seen_at = host.seen_at;
    }
    if (!handlers.on_host(host)) halt();
  }
};

}  // namespace

void read_nmap(const std::filesystem::path& path, const NmapHandlers& handlers) {
  core::FilePtr file = core::open_file(path, "rb");
  if (!file) {
    return void(handlers.on_error(
        {ErrorCode::kIo, fmt::format("cannot open: {}", std::strerror(errno)), path.string()}));
  }
  struct XmlFree {
    void operator()(XML_Parser p) const { XML_ParserFree(p); }
  };
  std::unique_ptr<std::remove_pointer_t<XML_Parser>, XmlFree> xml(XML_ParserCreate("UTF-8"));
  Parser parser{handlers, path.string()};
  parser.xml = xml.get();
  XML_SetUserData(xml.get(), &parser);
  XML_SetElementHandler(
      xml.get(),
      [](void* data, const XML_Char* name, const XML_Char** atts) {
        static_cast<Parser*>(data)->start(name, atts);
      },
      [](void* data, const XML_Char* name) { static_cast<Parser*>(data)->end(name); });
  // nmap output has no DTD: refuse any entity declaration (no "billion laughs").
  XML_SetEntityDeclHandler(
      xml.get(), [](void* data, const XML_Char* name, int, const XML_Char*, int, const XML_Char*,
                    const XML_Char*, const XML_Char*, const XML_Char*) {
        auto* p = static_cast<Parser*>(data);
        p->reject(fmt::format("entity declarations are not accepted ('{}')", name),
                  p->where(p->line(), "!ENTITY"));
      });
  std::vector<char> buf(kChunk);
  while (!parser.stop) {
    size_t n = std::fread(buf.data(), 1, buf.size(), file.get());
    bool last = n < buf.size();
    if (XML_Parse(xml.get(), buf.data(), static_cast<int>(n), last ? XML_TRUE : XML_FALSE) ==
        XML_STATUS_ERROR) {
      if (parser.stop) break;
      handlers.on_error(
          {ErrorCode::kInvalidInput,
           fmt::format("malformed XML: {}", XML_ErrorString(XML_GetErrorCode(xml.get()))),
           fmt::format("{}:{}:{}", path.string(), XML_GetCurrentLineNumber(xml.get()),
                       XML_GetCurrentColumnNumber(xml.get()) + 1)});
      break;
    }
    if (last) break;
  }
}

}  // namespace vigie::inventory

namespace vigie::inventory::internal {

void import_nmap(DeviceWriter& writer, const std::filesystem::path& path, const ImportOptions&) {
  NmapHandlers handlers;
  handlers.on_error = [&](core::Error e) { return writer.reject(std::move(e)); };
  handlers.on_host = [&](ScannedHost& host) {
    Interface iface;
    iface.ip = host.ipv4.empty() ? host.ipv6 : host.ipv4;
    iface.mac = host.mac;
    iface.hostname = host.hostname;
    std::string at = fmt::format("{}:{} <host>", path.string(), host.line);
    auto id = writer.find_by_address(iface.ip, iface.mac);
    if (!id) {
      Device d;
      set_field(d, Field::kVendor, host.mac_vendor.empty() ? "Unknown" : host.mac_vendor);
      set_field(d, Field::kProduct, "Unidentified host");
      d.os = host.os;
      d.identified = false;
      d.interfaces.push_back(iface);
      FieldMask present;
      if (!writer.add(std::move(d), present, at)) return false;
      id = writer.find_by_address(iface.ip, iface.mac);
      if (!id) return true;  // report mode after an earlier error: nothing is written
    }
    return writer.record_scan(*id, iface, host.ports, at);
  };
  read_nmap(path, handlers);
}

}  // namespace vigie::inventory::internal
