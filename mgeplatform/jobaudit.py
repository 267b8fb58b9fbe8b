"""Every background job's writes carry the job as their actor.

Procrastinate task middleware, installed in settings
(PROCRASTINATE_WORKER_DEFAULTS): a sync task runs in the worker's thread, and
pghistory's context is per thread, so the wrapper runs right around the task.
Settings import this module before the app registry is ready, hence the
imports inside the functions.
"""


def audit_job(call_next, context, worker):
    from mgeplatform.audit import job_context  # settings load this module before the models

    job = context.job
    with job_context(job.task_name, job.id):
        return call_next()


async def audit_job_async(call_next, context, worker):
    from mgeplatform.audit import job_context  # settings load this module before the models

    job = context.job
    with job_context(job.task_name, job.id):
        return await call_next()
