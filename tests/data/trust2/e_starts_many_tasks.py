"""Trust, round two: starts up to 200 processes that each hold on; without a cgroup, each of them
could hold its own --memory and kernel buffers. Prints how many it got."""
import os
import signal
import time

children = []
for _ in range(200):
    try:
        pid = os.fork()
    except OSError:
        break
    if pid == 0:
        time.sleep(10)
        os._exit(0)
    children.append(pid)
print(f"TASKS started: {len(children)}", flush=True)
for pid in children:
    os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)
