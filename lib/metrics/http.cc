// The endpoint's answers; see http.h.
#include "metrics/http.h"

namespace tlpmail::metrics {

bool wants_metrics(std::string_view method, std::string_view target) {
  return (method == "GET" || method == "HEAD") && target.substr(0, target.find('?')) == "/metrics";
}

HttpAnswer answer(std::string_view method, std::string_view target,
                  const std::function<std::string()>& render) {
  HttpAnswer a;
  const std::string_view path = target.substr(0, target.find('?'));
  if (path != "/metrics") {
    a.status = 404;
    a.content_type = "text/plain; charset=utf-8";
    a.body = "not found: tlpmaild serves /metrics only\n";
    a.content_length = a.body.size();
    return a;
  }
  if (method != "GET" && method != "HEAD") {
    a.status = 405;
    a.content_type = "text/plain; charset=utf-8";
    a.allow = "GET, HEAD";
    a.body = "method not allowed\n";
    a.content_length = a.body.size();
    return a;
  }
  a.content_type = kExpositionType;
  a.body = render();
  a.content_length = a.body.size();
  if (method == "HEAD") a.body.clear();
  return a;
}

}  // namespace tlpmail::metrics
