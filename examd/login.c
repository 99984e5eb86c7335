/*
 * examd login.c: password checks on worker threads.
 *
 * A candidate's password is checked against a PBKDF2 verifier that is slow
 * on purpose (JK_SITTING_PBKDF2_ITERATIONS, milliseconds per check). Done
 * on the loop, a room logging in at the start of a sitting would hold up
 * every other candidate's acknowledgements for as long as all their checks
 * take. So the loop hands the check to a small pool of threads and goes on;
 * a finished check comes back through an eventfd that the loop polls, and
 * the login is completed on the loop (examd__login_finish), which alone
 * touches sessions.
 *
 * A job owns what the check needs and what the reply needs: the decoded
 * request (the password is read from it by the worker, nothing else is),
 * a copy of the workstation's route, and the credential, which points into
 * the site document (immutable while examd runs). The queue is bounded by
 * login.queue: beyond it a login is answered NOT_OPEN "busy" at once and
 * the workstation tries again.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "examd.h"
#include "jk_log.h"

typedef struct ex_login_job {
    struct ex_login_job *next;
    Jk__Envelope *req;
    uint8_t route[255];
    size_t rl;
    long session;                /* index of the session it was for */
    const jk_sitting_credential_t *cred;
    bool ok;
} ex_login_job_t;

struct ex_logins {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    ex_login_job_t *todo_head, *todo_tail;
    ex_login_job_t *done_head, *done_tail;
    size_t jobs;                 /* waiting, running or done, not yet finished */
    size_t max_jobs;
    bool stop;
    pthread_t threads[EXAMD_LOGIN_THREADS_MAX];
    size_t n_threads;
    int efd;
};

static void s_push(ex_login_job_t **head, ex_login_job_t **tail, ex_login_job_t *j)
{
    j->next = NULL;
    if (*tail)
        (*tail)->next = j;
    else
        *head = j;
    *tail = j;
}

static void s_job_free(ex_login_job_t *j)
{
    jk_codec_free(&j->req); /* the credential in it is wiped by the codec */
    free(j);
}

static void *s_worker(void *arg)
{
    ex_logins_t *L = arg;
    pthread_mutex_lock(&L->mu);
    for (;;) {
        while (!L->stop && !L->todo_head)
            pthread_cond_wait(&L->cv, &L->mu);
        if (L->stop)
            break;
        ex_login_job_t *j = L->todo_head;
        L->todo_head = j->next;
        if (!L->todo_head)
            L->todo_tail = NULL;
        pthread_mutex_unlock(&L->mu);

        const Jk__LoginRequest *lq = j->req->login_request;
        j->ok = jk_sitting_check_password(j->cred, (const char *)lq->credential.data, lq->credential.len);

        pthread_mutex_lock(&L->mu);
        s_push(&L->done_head, &L->done_tail, j);
        uint64_t one = 1;
        ssize_t w = write(L->efd, &one, sizeof one);
        (void)w; /* the counter cannot overflow at our rates; EAGAIN means it is already set */
    }
    pthread_mutex_unlock(&L->mu);
    return NULL;
}

jk_err_t examd__logins_start(examd_t *ex, jk_error_t *err)
{
    ex_logins_t *L = calloc(1, sizeof *L);
    if (!L)
        return jk_error_set(err, JK_ERR_NOMEM, "out of memory");
    L->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (L->efd < 0) {
        free(L);
        return jk_error_set(err, JK_ERR_IO, "eventfd: %s", strerror(errno));
    }
    pthread_mutex_init(&L->mu, NULL);
    pthread_cond_init(&L->cv, NULL);
    L->max_jobs = (size_t)ex->cfg.login_queue;
    ex->logins = L;
    size_t want = (size_t)ex->cfg.login_threads;
    for (size_t i = 0; i < want && i < EXAMD_LOGIN_THREADS_MAX; i++) {
        int rc = pthread_create(&L->threads[i], NULL, s_worker, L);
        if (rc != 0) {
            examd__logins_stop(ex);
            return jk_error_set(err, JK_ERR_IO, "login threads: %s", strerror(rc));
        }
        L->n_threads++;
    }
    return JK_OK;
}

void examd__logins_stop(examd_t *ex)
{
    ex_logins_t *L = ex->logins;
    if (!L)
        return;
    pthread_mutex_lock(&L->mu);
    L->stop = true;
    pthread_cond_broadcast(&L->cv);
    pthread_mutex_unlock(&L->mu);
    for (size_t i = 0; i < L->n_threads; i++)
        pthread_join(L->threads[i], NULL);
    /* Unanswered logins: the workstations time out and try again. */
    ex_login_job_t *lists[] = { L->todo_head, L->done_head };
    for (size_t k = 0; k < 2; k++)
        for (ex_login_job_t *j = lists[k], *n; j; j = n) {
            n = j->next;
            s_job_free(j);
        }
    close(L->efd);
    pthread_cond_destroy(&L->cv);
    pthread_mutex_destroy(&L->mu);
    free(L);
    ex->logins = NULL;
}

int examd__logins_fd(const examd_t *ex)
{
    return ex->logins ? ex->logins->efd : -1;
}

bool examd__login_submit(examd_t *ex, const uint8_t *route, size_t rl, Jk__Envelope *req, long session,
                         const jk_sitting_credential_t *cred)
{
    ex_logins_t *L = ex->logins;
    if (!L || rl > sizeof ((ex_login_job_t *)0)->route)
        return false;
    ex_login_job_t *j = calloc(1, sizeof *j);
    if (!j)
        return false;
    j->req = req;
    memcpy(j->route, route, rl);
    j->rl = rl;
    j->session = session;
    j->cred = cred;
    pthread_mutex_lock(&L->mu);
    bool room = L->jobs < L->max_jobs;
    if (room) {
        L->jobs++;
        s_push(&L->todo_head, &L->todo_tail, j);
        pthread_cond_signal(&L->cv);
    }
    pthread_mutex_unlock(&L->mu);
    if (!room)
        free(j); /* the caller keeps req */
    return room;
}

size_t examd__logins_pending(const examd_t *ex)
{
    ex_logins_t *L = ex->logins;
    if (!L)
        return 0;
    pthread_mutex_lock(&L->mu);
    size_t n = L->jobs;
    pthread_mutex_unlock(&L->mu);
    return n;
}

void examd__logins_drain(examd_t *ex)
{
    ex_logins_t *L = ex->logins;
    if (!L)
        return;
    uint64_t count;
    while (read(L->efd, &count, sizeof count) > 0) {
    }
    pthread_mutex_lock(&L->mu);
    ex_login_job_t *done = L->done_head;
    L->done_head = L->done_tail = NULL;
    pthread_mutex_unlock(&L->mu);
    size_t finished = 0;
    for (ex_login_job_t *j = done, *n; j; j = n) {
        n = j->next;
        examd__login_finish(ex, j->route, j->rl, j->req, j->session, j->ok);
        s_job_free(j);
        finished++;
    }
    if (finished) {
        pthread_mutex_lock(&L->mu);
        L->jobs -= finished;
        pthread_mutex_unlock(&L->mu);
    }
}
