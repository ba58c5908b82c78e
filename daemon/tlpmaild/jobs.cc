// tlpmaild's periodic jobs (see jobs.h and docs/operator-guide.md, "What
// tlpmaild does by itself").
#include "tlpmaild/jobs.h"

namespace tlpmail::daemon {

void add_jobs(maintenance::Runner& runner) {
  (void)runner;  // the jobs of the key lifecycle, com-checks and retention go here
}

}  // namespace tlpmail::daemon
