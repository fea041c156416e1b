/*
 * commands.h: the subcommands of bwm. Each parses its own options from
 * argv[0] (its name) onwards and returns the process exit status.
 */
#ifndef BWM_COMMANDS_H
#define BWM_COMMANDS_H

int bwm_cmd_run(int argc, char **argv);
int bwm_cmd_check(int argc, char **argv);
int bwm_cmd_produce(int argc, char **argv);
int bwm_cmd_consume(int argc, char **argv);
int bwm_cmd_config(int argc, char **argv);
int bwm_cmd_state(int argc, char **argv);
int bwm_cmd_state_diff(int argc, char **argv);
int bwm_cmd_state_drop(int argc, char **argv);
int bwm_cmd_forward(int argc, char **argv);
int bwm_cmd_replay(int argc, char **argv);

#endif
