// What the /metrics endpoint answers, without sockets: a request line's
// method and target in, status, content type and body out. Only GET and
// HEAD of /metrics (a query string is ignored) are served; anything else
// is 404 or 405. The server (server.h) does the bytes.
#pragma once

#include <functional>
#include <string>
#include <string_view>

namespace tlpmail::metrics {

inline constexpr const char* kExpositionType = "text/plain; version=0.0.4; charset=utf-8";

struct HttpAnswer {
  int status = 200;
  std::string content_type;
  std::string body;  // empty for HEAD (the length is still that of GET's)
  std::size_t content_length = 0;
  std::string allow;  // 405: "GET, HEAD"
};

// True when (method, target) gets the metrics: GET or HEAD of /metrics.
bool wants_metrics(std::string_view method, std::string_view target);

// `render` is called only for a request that gets the metrics.
HttpAnswer answer(std::string_view method, std::string_view target,
                  const std::function<std::string()>& render);

}  // namespace tlpmail::metrics
