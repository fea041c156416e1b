/*
 * state_drop.h: dropping a state namespace after asking, shared by `bwm
 * state drop` and `bwm replay --reset-state`.
 */
#ifndef BWM_CMD_STATE_DROP_H
#define BWM_CMD_STATE_DROP_H

#include "core/conf.h"

/*
 * Asks question (bwm_cli_confirm(), so --yes or a terminal is needed), then
 * deletes every key of namespace ns in Redis and says how many, as `bwm
 * cmd`. Returns BWM_EXIT_OK when dropped, else the exit status to end with.
 */
int bwm_state_drop_asked(const bwm_conf_t *conf, const char *cmd, const char *question,
                         const char *ns, int yes);

#endif
