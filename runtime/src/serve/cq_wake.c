/* The parked-call wake (cq_wake.h). The mutex keeps a wake from cancelling
 * a call the loop is releasing: a wake takes its own reference first. */
#include "cq_wake.h"

#include <grpc/grpc_security.h>
#include <pthread.h>
#include <stdlib.h>

struct rt_cq_wake {
    rt_tag_kind kind; /* RT_TAG_WAKE: the tag of every parked call */
    grpc_completion_queue *cq;
    grpc_channel *channel;
    pthread_mutex_t lock;
    grpc_call *parked; /* NULL while the loop re-parks, or once stopped */
    bool fired;        /* parked is cancelled already */
    bool stopped;
    /* Where the parked call's status goes; read by nobody. */
    grpc_status_code status;
    grpc_slice details;
    grpc_metadata_array trailers;
};

/* Under the lock. A call that only waits for its status sends nothing, so
 * the channel is never asked to connect. */
static void park(rt_cq_wake *w)
{
    w->parked = grpc_channel_create_call(w->channel, NULL, GRPC_PROPAGATE_DEFAULTS, w->cq,
                                         grpc_slice_from_static_string("/rt.Wake/Park"), NULL,
                                         gpr_inf_future(GPR_CLOCK_REALTIME), NULL);
    w->fired = false;
    grpc_metadata_array_init(&w->trailers);
    grpc_op op = {.op = GRPC_OP_RECV_STATUS_ON_CLIENT,
                  .data.recv_status_on_client = {.trailing_metadata = &w->trailers,
                                                 .status = &w->status,
                                                 .status_details = &w->details}};
    if (!w->parked || grpc_call_start_batch(w->parked, &op, 1, w, NULL) != GRPC_CALL_OK)
        abort(); /* only on misuse of the API */
}

rt_cq_wake *rt_cq_wake_create(grpc_completion_queue *cq)
{
    rt_cq_wake *w = calloc(1, sizeof *w);
    if (!w)
        abort();
    w->kind = RT_TAG_WAKE;
    w->cq = cq;
    grpc_channel_credentials *creds = grpc_insecure_credentials_create();
    w->channel = grpc_channel_create("unix:/nonexistent/rt-cq-wake", creds, NULL);
    grpc_channel_credentials_release(creds);
    pthread_mutex_init(&w->lock, NULL);
    pthread_mutex_lock(&w->lock);
    park(w);
    pthread_mutex_unlock(&w->lock);
    return w;
}

/* Cancels the parked call unless it is already. */
void rt_cq_wake_fire(rt_cq_wake *w)
{
    pthread_mutex_lock(&w->lock);
    grpc_call *c = w->fired ? NULL : w->parked;
    if (c) {
        grpc_call_ref(c);
        w->fired = true;
    }
    pthread_mutex_unlock(&w->lock);
    if (c) {
        grpc_call_cancel(c, NULL);
        grpc_call_unref(c);
    }
}

void rt_cq_wake_taken(rt_cq_wake *w, void *tag)
{
    (void)tag; /* always w */
    pthread_mutex_lock(&w->lock);
    grpc_call *c = w->parked;
    w->parked = NULL;
    pthread_mutex_unlock(&w->lock);
    grpc_call_unref(c);
    grpc_slice_unref(w->details);
    grpc_metadata_array_destroy(&w->trailers);
    pthread_mutex_lock(&w->lock);
    if (!w->stopped)
        park(w);
    pthread_mutex_unlock(&w->lock);
}

void rt_cq_wake_stop(rt_cq_wake *w)
{
    pthread_mutex_lock(&w->lock);
    w->stopped = true;
    pthread_mutex_unlock(&w->lock);
    rt_cq_wake_fire(w);
}

void rt_cq_wake_destroy(rt_cq_wake *w)
{
    if (!w)
        return;
    grpc_channel_destroy(w->channel);
    pthread_mutex_destroy(&w->lock);
    free(w);
}
