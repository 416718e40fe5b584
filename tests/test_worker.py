"""The queue works end to end: a job enqueued on Redis is run by the worker."""

import msgspec

from motcua.queue import connect
from motcua.worker import build_worker, heartbeat_key


async def test_the_worker_runs_a_queued_heartbeat(settings):
    # A queue of its own: other tests leave deferred jobs on the shared one.
    settings = msgspec.structs.replace(settings, queue_name=f"{settings.queue_name}:heartbeat")
    queue = await connect(settings.redis_url, settings.queue_name)
    try:
        await queue.delete(heartbeat_key(settings.queue_name))
        job = await queue.enqueue_job("heartbeat")
        worker = build_worker(settings, handle_signals=False)
        worker.burst = True
        worker.cron_jobs = []
        await worker.main()
        await worker.close()
        stamp = await job.result(timeout=5)
        assert (await queue.get(heartbeat_key(settings.queue_name))).decode() == stamp
    finally:
        await queue.aclose()
