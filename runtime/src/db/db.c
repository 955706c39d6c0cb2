/* A fiber's view of the pipelined sessions (db.h): the deadline of the
 * call it serves, and statements handed to the pipeline with it. The view
 * depends on the pipeline and never the other way round. Each statement is
 * timed here, as its call waited for it (metrics_runtime.h), and is a span
 * of its call's trace (trace.h). */
#include "db.h"

#include <stdlib.h>

#include "db_pipeline.h"
#include "deadline.h"
#include "metrics_runtime.h"
#include "trace.h"

struct rt_db {
    rt_db_pipeline *pipeline;
    gpr_timespec deadline; /* monotonic */
    bool patient;
    const atomic_bool *gone;
};

rt_db *rt_db_view(rt_db_pipeline *pipeline)
{
    rt_db *db = calloc(1, sizeof *db);
    if (!db)
        abort();
    db->pipeline = pipeline;
    db->deadline = gpr_inf_future(GPR_CLOCK_MONOTONIC);
    return db;
}

void rt_db_close(rt_db *db)
{
    free(db);
}

void rt_db_set_deadline(rt_db *db, gpr_timespec deadline)
{
    db->deadline = rt_deadline_monotonic(deadline);
}

void rt_db_set_patient(rt_db *db, bool patient)
{
    db->patient = patient;
}

void rt_db_set_cancelled(rt_db *db, const atomic_bool *gone)
{
    db->gone = gone;
}

rt_status rt_db_exec(rt_db *db, const rt_db_statement *stmt, const char *const *params, PGresult **result)
{
    gpr_timespec started = gpr_now(GPR_CLOCK_MONOTONIC); /* vDSO: no system call */
    rt_status status = rt_db_pipeline_exec(db->pipeline, db->deadline, db->patient, db->gone, stmt, params, result);
    rt_metrics_statement(stmt->name, rt_elapsed_ms(started) / 1e3);
    rt_trace_statement(stmt->name, started, status.code); /* a span when the call's trace is exported */
    return status;
}
