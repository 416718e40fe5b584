"""The queue works end to end: a job enqueued on Redis is run by the worker."""

from motcua.queue import connect
from motcua.worker import HEARTBEAT_KEY, build_worker


async def test_the_worker_runs_a_queued_heartbeat(settings):
    queue = await connect(settings.redis_url, settings.queue_name)
    try:
        await queue.delete(HEARTBEAT_KEY)
        job = await queue.enqueue_job("heartbeat")
        worker = build_worker(settings, handle_signals=False)
        worker.burst = True
        worker.cron_jobs = []
        await worker.main()
        await worker.close()
        stamp = await job.result(timeout=5)
        assert (await queue.get(HEARTBEAT_KEY)).decode() == stamp
    finally:
        await queue.aclose()
