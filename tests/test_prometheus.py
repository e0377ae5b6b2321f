#!/usr/bin/env python3
"""Prometheus reads minicluster: Debian's `prometheus` server, started on
loopback with a temporary configuration and storage, scrapes a running
minicluster (--prometheus PORT, real world, a TaskManager killed mid-run),
and the test reads the values back through Prometheus' HTTP query API:
numRestarts was 0 and rose after the kill, a TaskManager is gone, the
checkpoints have a size, the probe's histogram and the DFS counters are
there.

usage: test_prometheus.py MINICLUSTER SOURCE_ROOT
Exit 77 (skipped) when no prometheus binary is installed.
"""
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request

DEADLINE_S = 90


def fail(msg):
    print("FAIL: " + msg)
    sys.exit(1)


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def query(prom, expr):
    url = "%s/api/v1/query?%s" % (prom, urllib.parse.urlencode({"query": expr}))
    with urllib.request.urlopen(url, timeout=5) as r:
        body = json.load(r)
    if body.get("status") != "success":
        fail("query %s: %s" % (expr, body))
    return body["data"]["result"]


def value(prom, expr):
    """The single sample's value, or None when there is none (yet)."""
    try:
        res = query(prom, expr)
    except OSError:
        return None
    return float(res[0]["value"][1]) if res else None


def wait_value(prom, expr, ok, what, deadline):
    while time.monotonic() < deadline:
        v = value(prom, expr)
        if v is not None and ok(v):
            return v
        time.sleep(0.1)     # a poll interval, not a synchronisation
    fail("timed out waiting for %s (%s = %s)" % (what, expr, value(prom, expr)))


def main():
    exe, root = sys.argv[1], sys.argv[2]
    binary = shutil.which("prometheus")
    if not binary:
        print("SKIP: no prometheus binary (Debian package `prometheus`)")
        sys.exit(77)
    scn = os.path.join(root, "tests", "data", "rest-faulted.scn")
    mc_port, prom_port = free_port(), free_port()
    prom = "http://127.0.0.1:%d" % prom_port
    deadline = time.monotonic() + DEADLINE_S
    with tempfile.TemporaryDirectory() as tmp:
        cfg = os.path.join(tmp, "prometheus.yml")
        with open(cfg, "w") as f:
            f.write("global:\n  scrape_interval: 200ms\n  scrape_timeout: 200ms\n"
                    "scrape_configs:\n  - job_name: minicluster\n    static_configs:\n"
                    "      - targets: ['127.0.0.1:%d']\n" % mc_port)
        server = subprocess.Popen([binary, "--config.file=" + cfg,
                                   "--storage.tsdb.path=" + os.path.join(tmp, "data"),
                                   "--web.listen-address=127.0.0.1:%d" % prom_port],
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        run = None
        try:
            while time.monotonic() < deadline:
                try:
                    with urllib.request.urlopen(prom + "/-/ready", timeout=2) as r:
                        if r.status == 200:
                            break
                except OSError:
                    pass
                if server.poll() is not None:
                    fail("prometheus exited %d at start" % server.returncode)
                time.sleep(0.1)     # a poll interval
            # Prometheus hands new targets to its scrapers only every few
            # seconds: minicluster starts once the first (failed) scrape is in.
            wait_value(prom, 'up{job="minicluster"}', lambda v: v == 0,
                       "Prometheus' first scrape of the target", deadline)
            errf = open(os.path.join(tmp, "run.stderr"), "w")
            run = subprocess.Popen([exe, "run", scn, "--prometheus", str(mc_port), "--quiet"],
                                   stdout=subprocess.DEVNULL, stderr=errf)
            restarts = 'flink_jobmanager_job_numRestarts{job_name="orders"}'
            wait_value(prom, restarts, lambda v: v >= 1, "numRestarts to rise", deadline)
            lo = value(prom, "min_over_time(%s[5m])" % restarts)
            if lo != 0:
                fail("numRestarts was never seen at 0 before the kill (min %s)" % lo)
            wait_value(prom, "flink_jobmanager_numRegisteredTaskManagers", lambda v: v == 2,
                       "the killed TaskManager to be gone (3 -> 2)", deadline)
            hi = value(prom, "max_over_time(flink_jobmanager_numRegisteredTaskManagers[5m])")
            if hi != 3:
                fail("numRegisteredTaskManagers was never 3 (max %s)" % hi)
            wait_value(prom, 'flink_jobmanager_job_lastCheckpointSize{job_name="orders"}',
                       lambda v: v > 0, "a checkpoint size", deadline)
            wait_value(prom, "minicluster_dfs_bytes_written_total", lambda v: v > 0,
                       "DFS bytes written", deadline)
            wait_value(prom, "minicluster_probe_latency_seconds_count", lambda v: v > 0,
                       "probe samples", deadline)
            p99 = wait_value(prom, "histogram_quantile(0.99, minicluster_probe_latency_seconds_bucket)",
                             lambda v: v > 0, "the probe's p99", deadline)
            n = value(prom, 'count(flink_taskmanager_job_task_numRecordsIn{job_name="orders"})')
            if not n:
                fail("no numRecordsIn series for orders")
            # Each subtask's time, split as Flink's task metrics split it (one
            # query a kind: both counts from the same scrape).
            task = 'flink_taskmanager_job_task_accumulate%sTimeMs{job_name="orders"}'
            for kind in ("Busy", "Idle", "BackPressured"):
                d = value(prom, 'count(%s) - count(flink_taskmanager_job_task_numRecordsIn'
                                '{job_name="orders"})' % (task % kind))
                if d != 0:
                    fail("not one accumulate%sTimeMs series a subtask of orders (%s)" % (kind, d))
            wait_value(prom, "sum(%s) + sum(%s)" % (task % "Busy", task % "Idle"),
                       lambda v: v > 0, "the subtasks' busy and idle time", deadline)
            rc = run.wait(timeout=max(1, deadline - time.monotonic()))
            errf.close()
            with open(os.path.join(tmp, "run.stderr"), errors="replace") as f:
                err = f.read()
            if "Sanitizer" in err or "runtime error:" in err:
                fail("the sanitizer reported:\n" + err[-4000:])
            if rc not in (0, 1):
                fail("minicluster run exited %d" % rc)
            print("ok: numRestarts 0 -> >=1, TaskManagers 3 -> 2, probe p99 %.4f s" % p99)
        finally:
            for p in (run, server):
                if p and p.poll() is None:
                    p.terminate()
                    try:
                        p.wait(timeout=10)
                    except subprocess.TimeoutExpired:
                        p.kill()
                        p.wait()


if __name__ == "__main__":
    main()
