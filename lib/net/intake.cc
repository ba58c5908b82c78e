// The byte batch between the session's DataChunks and the intake's writes.
#include "net/intake.h"

namespace tlpmail::net {

std::string DataBatch::take() {
  std::string out;
  out.swap(buf_);  // buf_ starts again without memory: idle sessions hold none
  return out;
}

}  // namespace tlpmail::net
