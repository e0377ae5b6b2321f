#!/usr/bin/env python3
"""The sim world's pauses (docs/rest.md): with --pause-at EVENT the world
stops at that event and the REST API and metrics answer with it standing
still - the same world time on every request - until POST
/minicluster/resume; after the run they answer once more.  Checks that the
state seen is the event's (checkpoint 2 is the latest completed; the job is
RESTARTING; each subtask's busy, idle and back-pressured time fit in its
running time and a vertex's are its subtasks' summed), that nothing moves
while paused, that the run's trace is the
unpaused run's, and, when Flink's description
is in ../shared, that every endpoint validates (test_rest_schema.walk).

usage: test_rest_sim.py MINICLUSTER SOURCE_ROOT
"""
import json
import os
import re
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import test_rest_schema as trs  # noqa: E402

DEADLINE_S = 60


def fail(msg):
    print("FAIL: " + msg)
    sys.exit(1)


class Proc:
    def __init__(self, args, stderr_path):
        self.stderr_path = stderr_path
        self.stderr = open(stderr_path, "w")
        self.p = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=self.stderr, text=True)
        self.lines = []

    def line_matching(self, rx, deadline):
        """Reads stdout lines until one matches rx (the process writes and
        then blocks serving, so a blocking read ends with that line)."""
        while time.monotonic() < deadline:
            line = self.p.stdout.readline()
            if not line:
                fail("the run ended before a line matching %r; got %s" % (rx, self.lines))
            self.lines.append(line.rstrip("\n"))
            m = re.match(rx, line)
            if m:
                return m
        fail("timed out waiting for %r" % rx)


def pause_run(exe, scn, event, report, check):
    deadline = time.monotonic() + DEADLINE_S
    pr = Proc([exe, "run", scn, "--world", "sim", "--mode", "session", "--rest", "0",
               "--prometheus", "0", "--pause-at", event, "--quiet", "--json", report],
              report + ".stderr")
    try:
        base = pr.line_matching(r"^rest: session (http://127\.0\.0\.1:\d+)$", deadline).group(1)
        prom = pr.line_matching(r"^prometheus: session (http://127\.0\.0\.1:\d+)$",
                                deadline).group(1)
        pr.line_matching(r"^paused: " + re.escape(event) + " at ", deadline)
        jobs = trs.get(base, "/jobs/overview")["jobs"]
        orders = [j for j in jobs if j["name"] == "orders"][0]
        j = "/jobs/" + orders["jid"]
        first = trs.get(base, j)
        check(base, orders["jid"], first)
        if trs.get(base, j)["now"] != first["now"]:
            fail("world time moved while paused")
        metrics = trs.http_text(prom + "/metrics")
        if "flink_jobmanager_job_numRestarts" not in metrics:
            fail("no numRestarts in the metrics while paused")
        if CHK:
            trs.walk(CHK, base, "sim " + event)
        s, _ = trs.http(base + "/minicluster/resume", method="POST")
        if s != 202:
            fail("resume: %d" % s)
        pr.line_matching(r"^resumed$", deadline)
        pr.line_matching(r"^paused: the run is over at ", deadline)
        after = trs.get(base, j)
        if after["state"] not in ("FINISHED", "FAILED", "CANCELED"):
            fail("after the run, orders is %s" % after["state"])
        if after["now"] <= first["now"]:
            fail("world time did not move between the pause and the end")
        if CHK:
            trs.walk(CHK, base, "sim after the run")
        trs.http(base + "/minicluster/resume", method="POST")
        rc = pr.p.wait(timeout=max(1, deadline - time.monotonic()))
        pr.stderr.close()
        trs.check_stderr(pr.stderr_path, event)
        if rc not in (0, 1):
            fail("minicluster run exited %d" % rc)
        with open(report) as f:
            eps = json.load(f)["endpoints"]
        if eps != [{"cluster": "session", "rest": base, "prometheus": prom}]:
            fail("report endpoints %s" % eps)
        print("ok pause at %r" % event)
    finally:
        if pr.p.poll() is None:
            pr.p.kill()
            pr.p.wait()


TIMES = ("accumulated-busy-time", "accumulated-idle-time", "accumulated-backpressured-time")


def task_times(base, jid, details):
    """Each running subtask's busy, idle and back-pressured ms add up to more
    than 0 and at most its duration (its task started running after the
    job did; 1 ms for rounding); a vertex's are its subtasks' summed, as
    Flink's (idle and back-pressured are whole ms, summed before rounding:
    under 1 ms a subtask more); some subtask of the job waited for input."""
    idle = 0
    for v in details["vertices"]:
        vd = trs.get(base, "/jobs/%s/vertices/%s" % (jid, v["id"]))
        tot = dict.fromkeys(TIMES, 0)
        for st in vd["subtasks"]:
            m = st["metrics"]
            spent = sum(m[k] for k in TIMES)
            if not 0 < spent <= st["duration"] + 1:
                fail("%s[%d]: busy+idle+back-pressured %.3f ms, duration %d ms"
                     % (v["name"], st["subtask"], spent, st["duration"]))
            for k in TIMES:
                tot[k] += m[k]
            idle += m["accumulated-idle-time"]
        agg, n = v["metrics"], len(vd["subtasks"])
        if abs(agg[TIMES[0]] - tot[TIMES[0]]) > 1e-6 * max(1.0, tot[TIMES[0]]):
            fail("%s: busy %r, its subtasks' %r" % (v["name"], agg[TIMES[0]], tot[TIMES[0]]))
        for k in TIMES[1:]:
            if not 0 <= agg[k] - tot[k] < n:
                fail("%s: %s %r, its subtasks' %r" % (v["name"], k, agg[k], tot[k]))
    if idle == 0:
        fail("no subtask of orders was ever idle")


def at_checkpoint_2(base, jid, details):
    cps = trs.get(base, "/jobs/%s/checkpoints" % jid)
    latest = cps["latest"]["completed"]
    if not latest or latest["id"] != 2:
        fail("paused at checkpoint 2, the latest completed is %s" % (latest and latest["id"]))
    if details["state"] != "RUNNING":
        fail("paused at checkpoint 2, orders is %s" % details["state"])
    task_times(base, jid, details)


def restarting(base, jid, details):
    if details["state"] != "RESTARTING":
        fail("paused at RESTARTING, orders is %s" % details["state"])
    ex = trs.get(base, "/jobs/%s/exceptions" % jid)
    if not ex["exceptionHistory"]["entries"]:
        fail("paused at RESTARTING, no failure in /exceptions")


CHK = None


def main():
    global CHK
    exe, root = sys.argv[1], sys.argv[2]
    spec_path = os.path.join(root, "..", "shared", "flink", "rest_v1_dispatcher.yml")
    if os.path.exists(spec_path):
        CHK = trs.Checker(trs.load_spec(root))
    else:
        print("note: %s is not there: states are checked, shapes are not"
              % os.path.normpath(spec_path))
    scn = os.path.join(root, "tests", "data", "rest-faulted.scn")
    with tempfile.TemporaryDirectory() as tmp:
        pause_run(exe, scn, "checkpoint orders 2 done", os.path.join(tmp, "a.json"),
                  at_checkpoint_2)
        pause_run(exe, scn, "job orders restarting", os.path.join(tmp, "b.json"), restarting)
        # Serving with the world still changes nothing in the run: same trace.
        plain = os.path.join(tmp, "plain.json")
        subprocess.run([exe, "run", scn, "--world", "sim", "--mode", "session", "--quiet",
                        "--json", plain], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                       timeout=DEADLINE_S)
        hashes = set()
        for name in ("a.json", "b.json", "plain.json"):
            with open(os.path.join(tmp, name)) as f:
                hashes.add(json.load(f)["trace_hash"])
        if len(hashes) != 1:
            fail("pausing changed the run: trace hashes %s" % sorted(hashes))
        print("ok the paused runs and an unpaused one share the trace %s" % hashes.pop())


if __name__ == "__main__":
    main()
