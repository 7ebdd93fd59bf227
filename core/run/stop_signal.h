#pragma once
// SIGINT and SIGTERM ask a writing run to stop at its next safe point rather than wherever
// the signal lands. The handler only sets a flag; the loops look at it between steps and
// stages, where every file of the run is either whole or not yet begun (files are replaced
// atomically), and throw the Error that main turns into exit 130 (SIGINT) or 143 (SIGTERM).
// A second signal finds the default handler back in place and ends the process at once.
#include <string>

#include "core/distributed/communicator.h"

namespace mg {

// Installed by the commands that write a run (run, pretrain, improve).
void install_stop_handlers();
// SIGINT or SIGTERM once one has arrived, else 0.
int stop_signal_received();
// Throws Error(Interrupted or Terminated) saying where the run stopped and how to resume.
[[noreturn]] void stop_at(int signal, const std::string& where);
// A safe point of one process: stops here when a signal has arrived.
void stop_point(const std::string& where);
// A safe point of the whole job: every rank calls it at the same place; when any rank was
// signalled (mpirun passes a signal on to every rank, not at the same instant), every rank
// stops here together. One small collective; with one rank, none.
void stop_point(Communicator& comm, const std::string& where);

}  // namespace mg
