// The periodic jobs tlpmaild runs (maintenance::Runner), registered in
// one place: each job's logic lives with its stage in lib/. Wiring only.
#pragma once

#include "maintenance/runner.h"

namespace tlpmail::daemon {

void add_jobs(maintenance::Runner& runner);

}  // namespace tlpmail::daemon
