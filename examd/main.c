/* examd main: configuration, logging, new, run, destroy. */
#include <stdio.h>
#include <string.h>

#include "examd.h"
#include "jk_log.h"

static examd_t *s_examd;

static void s_on_signal(int sig)
{
    (void)sig;
    if (s_examd)
        examd_stop(s_examd);
}

int main(int argc, char **argv)
{
    if (argc == 2 && strcmp(argv[1], "--reference-config") == 0) {
        examd_config_reference(stdout);
        return 0;
    }
    examd_config_t cfg;
    memset(&cfg, 0, sizeof cfg);
    jk_error_t err;
    bool help = false;
    jk_log_init("examd", JK_LOG_INFO, NULL);
    if (examd_config_load(&cfg, argc, argv, &help, &err) != JK_OK) {
        fprintf(stderr, "examd: %s\n", err.msg);
        examd_config_release(&cfg);
        return 2;
    }
    if (help) {
        examd_config_release(&cfg);
        return 0;
    }
    if (jk_log_daemon_start((jk_log_level_t)cfg.log_level, cfg.log_file, s_on_signal) != 0) {
        examd_config_release(&cfg);
        return 2;
    }

    s_examd = examd_new(&cfg, &err);
    int code = 0;
    if (!s_examd) {
        JK_ERROR("examd.fatal", "error=%s", jk_log_value(err.msg, (char[JK_LOG_VALUE_MAX]){ 0 }));
        fprintf(stderr, "examd: %s\n", err.msg);
        code = 1;
    } else if (examd_run(s_examd, &err) != JK_OK) {
        fprintf(stderr, "examd: %s\n", err.msg);
        code = 1;
    }
    examd_destroy(&s_examd);
    jk_log_open_file(NULL);
    examd_config_release(&cfg);
    return code;
}
