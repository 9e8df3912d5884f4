"""Enqueue N no-op RQ jobs with Queue.enqueue_many (pipelined), 1,000 per
call, and print {"jobs","secs","rate"}.
    /usr/bin/python3 rq_fill.py REDIS_URL N
"""
import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from redis import Redis  # noqa: E402
from rq import Queue  # noqa: E402

import rq_jobs  # noqa: E402

url, n = sys.argv[1], int(sys.argv[2])
q = Queue("default", connection=Redis.from_url(url))
t0 = time.monotonic()
for start in range(0, n, 1000):
    q.enqueue_many([Queue.prepare_data(rq_jobs.noop, args=(i,))
                    for i in range(start, min(n, start + 1000))])
secs = time.monotonic() - t0
print(json.dumps({"jobs": n, "secs": secs, "rate": n / secs}))
