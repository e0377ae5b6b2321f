#!/usr/bin/env python3
"""What a REST client costs the JobManager (docs/rest.md, target: at 50
requests/s its busy time grows by at most 5%).

Runs one scenario in the real world RUNS times without the REST API and RUNS
times with it (--rest 0 --prometheus 0) while a client sends RATE requests/s,
round-robin over every served endpoint (all jobs, vertices, checkpoints,
TaskManagers, /metrics), and compares the leading JobManager's busy time -
the time its node spent in handlers, as the run object reports it
(jobmanagers[0].busy_ms, measured by the runtime around every handler) -
and its messages.  Runs alternate (off, on, off, on, ...) so that a machine
whose load drifts hurts both sides alike.  Prints medians, the spread, and
the ratio of medians; --json FILE writes them.  Busy time is wall time in
handlers, so on a machine with more runnable threads than cores it also
counts the time a handler was preempted; the bench therefore also samples
the JobManager thread's own on-CPU time and run-queue wait
(/proc/PID/task/TID/schedstat), and the REST thread's on-CPU time.

usage: bench/rest_load.py MINICLUSTER [SCENARIO] [--runs N] [--rate R] [--json FILE]
"""
import argparse
import http.client
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request


def fetch(url):
    try:
        with urllib.request.urlopen(url, timeout=2) as r:
            return r.status, r.read()
    except OSError:
        return 0, b""


class Load(threading.Thread):
    """RATE requests/s on a fixed schedule, over every endpoint it finds."""

    def __init__(self, base, metrics, rate):
        super().__init__(daemon=True)
        self.base, self.metrics, self.rate = base, metrics, rate
        self.stop = threading.Event()
        self.sent = self.ok = 0

    def paths(self):
        p = ["/config", "/overview", "/jobs", "/jobs/overview", "/jobmanager/config",
             "/taskmanagers"]
        st, body = fetch(self.base + "/jobs")
        if st == 200:
            for j in json.loads(body)["jobs"]:
                jp = "/jobs/" + j["id"]
                p += [jp, jp + "/plan", jp + "/exceptions", jp + "/checkpoints",
                      jp + "/checkpoints/config"]
                st2, d = fetch(self.base + jp)
                if st2 == 200:
                    p += [jp + "/vertices/" + v["id"] for v in json.loads(d)["vertices"]]
                st2, c = fetch(self.base + jp + "/checkpoints")
                if st2 == 200:
                    p += ["%s/checkpoints/details/%d" % (jp, h["id"])
                          for h in json.loads(c)["history"][:3]]
        st, body = fetch(self.base + "/taskmanagers")
        if st == 200:
            p += ["/taskmanagers/" + t["id"] for t in json.loads(body)["taskmanagers"]]
        return [self.base + x for x in p] + [self.metrics + "/metrics"]

    def get(self, url):
        """One request on a kept-alive connection per server, as
        Prometheus and HTTP client libraries do."""
        u = urllib.parse.urlsplit(url)
        c = self.conns.get(u.netloc)
        for attempt in (0, 1):
            if c is None:
                c = self.conns[u.netloc] = http.client.HTTPConnection(u.netloc, timeout=2)
            try:
                c.request("GET", u.path)
                r = c.getresponse()
                r.read()
                return r.status
            except (OSError, http.client.HTTPException):
                c.close()
                c = self.conns[u.netloc] = None
        return 0

    def run(self):
        self.conns = {}
        urls, k = self.paths(), 0
        t = time.monotonic()
        while not self.stop.is_set():
            if k % 50 == 0:
                urls = self.paths()     # new jobs, checkpoints, TaskManagers
            st = self.get(urls[k % len(urls)])
            self.sent += 1
            self.ok += st == 200
            k += 1
            t += 1.0 / self.rate
            self.stop.wait(max(0.0, t - time.monotonic()))


class ThreadCpu(threading.Thread):
    """Samples the on-CPU nanoseconds (/proc/PID/task/TID/schedstat, first
    field) of the process's threads named like the JobManager node and the
    REST hub, until the process ends; the last sample stands."""

    def __init__(self, pid, names):
        super().__init__(daemon=True)
        self.pid, self.names = pid, names
        self.cpu = {n: 0 for n in names}
        self.wait = {n: 0 for n in names}
        self.done = threading.Event()

    def run(self):
        while not self.done.is_set():
            try:
                for tid in os.listdir("/proc/%d/task" % self.pid):
                    with open("/proc/%d/task/%s/comm" % (self.pid, tid)) as f:
                        comm = f.read().strip()
                    if comm in self.names:
                        with open("/proc/%d/task/%s/schedstat" % (self.pid, tid)) as f:
                            run_ns, wait_ns, _ = f.read().split()
                        self.cpu[comm] = max(self.cpu[comm], int(run_ns))
                        self.wait[comm] = max(self.wait[comm], int(wait_ns))
            except (OSError, ValueError):
                pass
            self.done.wait(0.05)


def one_run(exe, scn, loaded, rate, tmp, i):
    report = os.path.join(tmp, "run-%d-%s.json" % (i, "on" if loaded else "off"))
    args = [exe, "run", scn, "--quiet", "--json", report]
    if loaded:
        args += ["--rest", "0", "--prometheus", "0"]
    p = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    cpu = ThreadCpu(p.pid, ("session-jm", "mc-rest"))
    cpu.start()
    load, base, metrics = None, None, None
    t0 = time.monotonic()
    for line in p.stdout:
        m = re.match(r"^(rest|prometheus): \S+ (http://\S+)$", line)
        if m and m.group(1) == "rest":
            base = m.group(2)
        elif m:
            metrics = m.group(2)
        if loaded and base and metrics and not load:
            load = Load(base, metrics, rate)
            load.start()
    p.wait()
    wall = time.monotonic() - t0
    cpu.done.set()
    cpu.join()
    if load:
        load.stop.set()
        load.join()
    with open(report) as f:
        run = json.load(f)
    jm = run["jobmanagers"][0]
    out = {"busy_ms": jm["busy_ms"], "messages": jm["messages"], "wall_s": wall,
           "jm_cpu_ms": cpu.cpu["session-jm"] / 1e6, "jm_runqueue_ms": cpu.wait["session-jm"] / 1e6,
           "rest_cpu_ms": cpu.cpu["mc-rest"] / 1e6}
    if load:
        out["requests"] = load.sent
        out["ok"] = load.ok
        out["rps"] = load.sent / wall
    return out


def spread(xs):
    return {"median": statistics.median(xs), "min": min(xs), "max": max(xs), "n": len(xs)}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("exe")
    ap.add_argument("scenario", nargs="?")
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--rate", type=float, default=50)
    ap.add_argument("--json")
    a = ap.parse_args()
    scn = a.scenario or os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests",
                                     "data", "rest-faulted.scn")
    off, on = [], []
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(a.runs):
            off.append(one_run(a.exe, scn, False, a.rate, tmp, i))
            on.append(one_run(a.exe, scn, True, a.rate, tmp, i))
            print("run %d: off busy %.1f ms, JM cpu %.1f ms (%d msgs) | on busy %.1f ms, JM cpu "
                  "%.1f ms (%d msgs), REST cpu %.1f ms, %d requests at %.1f/s, %d ok"
                  % (i, off[-1]["busy_ms"], off[-1]["jm_cpu_ms"], off[-1]["messages"],
                     on[-1]["busy_ms"], on[-1]["jm_cpu_ms"], on[-1]["messages"],
                     on[-1]["rest_cpu_ms"], on[-1]["requests"], on[-1]["rps"], on[-1]["ok"]),
                  flush=True)
    res = {"scenario": os.path.basename(scn), "rate": a.rate,
           "off": {"busy_ms": spread([r["busy_ms"] for r in off]),
                   "jm_cpu_ms": spread([r["jm_cpu_ms"] for r in off]),
                   "jm_runqueue_ms": spread([r["jm_runqueue_ms"] for r in off]),
                   "messages": spread([r["messages"] for r in off])},
           "on": {"busy_ms": spread([r["busy_ms"] for r in on]),
                  "jm_cpu_ms": spread([r["jm_cpu_ms"] for r in on]),
                  "jm_runqueue_ms": spread([r["jm_runqueue_ms"] for r in on]),
                  "rest_cpu_ms": spread([r["rest_cpu_ms"] for r in on]),
                  "messages": spread([r["messages"] for r in on]),
                  "rps": spread([r["rps"] for r in on]),
                  "requests": sum(r["requests"] for r in on),
                  "ok": sum(r["ok"] for r in on)}}
    res["busy_ratio"] = res["on"]["busy_ms"]["median"] / res["off"]["busy_ms"]["median"]
    res["jm_cpu_ratio"] = res["on"]["jm_cpu_ms"]["median"] / res["off"]["jm_cpu_ms"]["median"]
    bpm_off = statistics.median([r["busy_ms"] / r["messages"] for r in off])
    bpm_on = statistics.median([r["busy_ms"] / r["messages"] for r in on])
    res["busy_per_message_ratio"] = bpm_on / bpm_off
    print(json.dumps(res, indent=2))
    if a.json:
        with open(a.json, "w") as f:
            json.dump(res, f, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
