/* scorerd main: configuration, logging, new, run, destroy. */
#include <stdio.h>
#include <string.h>

#include "scorerd.h"
#include "jk_log.h"

static scorerd_t *s_scorerd;

static void s_on_signal(int sig)
{
    (void)sig;
    if (s_scorerd)
        scorerd_stop(s_scorerd);
}

int main(int argc, char **argv)
{
    if (argc == 2 && strcmp(argv[1], "--reference-config") == 0) {
        scorerd_config_reference(stdout);
        return 0;
    }
    scorerd_config_t cfg;
    memset(&cfg, 0, sizeof cfg);
    jk_error_t err;
    bool help = false;
    jk_log_init("scorerd", JK_LOG_INFO, NULL);
    if (scorerd_config_load(&cfg, argc, argv, &help, &err) != JK_OK) {
        fprintf(stderr, "scorerd: %s\n", err.msg);
        scorerd_config_release(&cfg);
        return 2;
    }
    if (help) {
        scorerd_config_release(&cfg);
        return 0;
    }
    if (jk_log_daemon_start((jk_log_level_t)cfg.log_level, cfg.log_file, s_on_signal) != 0) {
        scorerd_config_release(&cfg);
        return 2;
    }

    s_scorerd = scorerd_new(&cfg, &err);
    int code = 0;
    if (!s_scorerd) {
        JK_ERROR("scorerd.fatal", "error=%s", jk_log_value(err.msg, (char[JK_LOG_VALUE_MAX]){ 0 }));
        fprintf(stderr, "scorerd: %s\n", err.msg);
        code = 1;
    } else if (scorerd_run(s_scorerd, &err) != JK_OK) {
        fprintf(stderr, "scorerd: %s\n", err.msg);
        code = 1;
    }
    scorerd_destroy(&s_scorerd);
    jk_log_open_file(NULL);
    scorerd_config_release(&cfg);
    return code;
}
