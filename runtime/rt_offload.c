/*
 * rt_offload.c - the real world's worker threads for rt_actor_offload.
 *
 * One worker per node, started by the node's first job: a TaskManager
 * encodes its snapshots on its own worker, as Flink's run their
 * asynchronous snapshot parts on their own threads, so the checkpoints of
 * one TaskManager never queue behind another's.  Jobs are RT__Q_OFFLOAD
 * items: the worker takes them in order, runs work(arg) outside any node,
 * then hands the item to the node's inbox, whose drain runs done (see
 * rt__deliver).  An item that is never delivered - node down, new
 * incarnation, world freed - is freed like any item, and rt__qmsg_free runs
 * its drop.
 *
 * Only the node's thread submits and tears down, so the worker is created
 * without a lock; the worker outlives the node's incarnations and is joined
 * by rt_world_free, after the node's thread.
 *
 * Pinning.  work may read the node's memory, so a node going down
 * (rt__node_teardown, on the node's thread, before its pool is reset) takes
 * its jobs that have not started off the queue and waits for the one that
 * is running.  A wait here is bounded by one job's work; nothing the node
 * does can be needed by the worker, which touches no node state.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/rt_internal.h"

struct rt__offload {
    struct rt_node *n;
    pthread_mutex_t mu;
    pthread_cond_t work_cv;     /* a job was queued, or stop */
    pthread_cond_t idle_cv;     /* the running job finished */
    pthread_t thread;
    struct rt__fifo queue;
    int running;                /* a job is in work */
    int stop;
};

static void *worker_main(void *arg)
{
    struct rt__offload *o = arg;
    char name[16] = "ofl-";     /* a thread name holds 15 characters */
    size_t len = strnlen(o->n->name, sizeof(name) - 5);
    memcpy(name + 4, o->n->name, len);
    name[4 + len] = '\0';
    pthread_setname_np(pthread_self(), name);
    pthread_mutex_lock(&o->mu);
    for (;;) {
        struct rt__qmsg *q = rt__fifo_pop(&o->queue);
        if (!q) {
            if (o->stop)
                break;
            pthread_cond_wait(&o->work_cv, &o->mu);
            continue;
        }
        o->running = 1;
        pthread_mutex_unlock(&o->mu);
        q->work(q->arg);
        pthread_mutex_lock(&o->mu);
        o->running = 0;
        pthread_cond_broadcast(&o->idle_cv);
        /* Enqueued under the lock: a node that starts going down after
         * this still finds the item in its inbox, and drops it. */
        rt__real_enqueue(o->n, q);
    }
    pthread_mutex_unlock(&o->mu);
    return NULL;
}

void rt__offload_submit(struct rt_node *n, struct rt__qmsg *q)
{
    struct rt__offload *o = n->offload;
    if (!o) {
        o = calloc(1, sizeof(*o));
        if (!o)
            abort();
        o->n = n;
        pthread_mutex_init(&o->mu, NULL);
        pthread_cond_init(&o->work_cv, NULL);
        pthread_cond_init(&o->idle_cv, NULL);
        if (pthread_create(&o->thread, NULL, worker_main, o) != 0)
            abort();    /* like an allocation failure: nothing sensible to go on with */
        n->offload = o;
    }
    pthread_mutex_lock(&o->mu);
    rt__fifo_push(&o->queue, q);
    pthread_cond_signal(&o->work_cv);
    pthread_mutex_unlock(&o->mu);
}

void rt__offload_node_down(struct rt_node *n)
{
    struct rt__offload *o = n->offload;
    if (!o)
        return;
    pthread_mutex_lock(&o->mu);
    struct rt__fifo mine = o->queue;
    o->queue = (struct rt__fifo){ 0 };
    pthread_mutex_unlock(&o->mu);
    struct rt__qmsg *q;
    while ((q = rt__fifo_pop(&mine)) != NULL)
        rt__qmsg_free(q);       /* runs drop: their work never started */
    pthread_mutex_lock(&o->mu);
    while (o->running)
        pthread_cond_wait(&o->idle_cv, &o->mu);
    pthread_mutex_unlock(&o->mu);
}

void rt__offload_free(struct rt_node *n)
{
    struct rt__offload *o = n->offload;
    if (!o)
        return;
    pthread_mutex_lock(&o->mu);
    o->stop = 1;
    pthread_cond_signal(&o->work_cv);
    pthread_mutex_unlock(&o->mu);
    pthread_join(o->thread, NULL);
    pthread_mutex_destroy(&o->mu);
    pthread_cond_destroy(&o->work_cv);
    pthread_cond_destroy(&o->idle_cv);
    free(o);
    n->offload = NULL;
}
