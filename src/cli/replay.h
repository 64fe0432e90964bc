/* replay: a trace through the real engine, in-process, with the trace's
 * timestamps as the engine clock (policyd replay). Demand-fill semantics
 * (../shared/traces/README.md): look the key up; on a miss count it and
 * insert it. The policy's samples run as the clock passes them. */
#ifndef POLICYD_CLI_REPLAY_H
#define POLICYD_CLI_REPLAY_H

/* Runs `policyd replay ARGS...` (argv after "replay"); returns the exit
 * status. */
int replay_main(int argc, char **argv);

#endif
