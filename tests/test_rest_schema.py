#!/usr/bin/env python3
"""Flink's shapes, checked: runs a faulted scenario in the real world in every
deployment mode with --rest 0, walks every served endpoint of every cluster
before the fault, during the restart and after it, and validates each
response against Flink's own OpenAPI description (Flink 1.19,
../shared/flink/rest_v1_dispatcher.yml from the source root) with
jsonschema.  The description marks almost nothing required, yet Flink sends
every field: here every property of every object schema is required, so an
empty object cannot pass.  Where Flink itself sends null (an absent latest
checkpoint, a global failure's task name, ...) null is allowed, for exactly
the properties listed in NULLABLE.  Also checks the error bodies (404, 400,
405: {"errors": [...]}) and PATCH /jobs/:jobid?mode=cancel.

usage: test_rest_schema.py MINICLUSTER SOURCE_ROOT
Exit 77 (skipped) when the description is not there (a fresh clone has no
../shared).
"""
import json
import os
import re
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

DEADLINE_S = 60

# (schema, property): Flink sends null here when there is nothing to say.
NULLABLE = {
    ("LatestCheckpoints", "completed"), ("LatestCheckpoints", "savepoint"),
    ("LatestCheckpoints", "failed"), ("LatestCheckpoints", "restored"),
    ("CheckpointStatistics", "savepointFormat"),
    ("JobExceptionsInfoWithHistory", "root-exception"),
    ("JobExceptionsInfoWithHistory", "timestamp"),
    ("RootExceptionInfo", "taskName"), ("RootExceptionInfo", "location"),
    ("RootExceptionInfo", "taskManagerId"),
    ("ExceptionInfo", "taskName"), ("ExceptionInfo", "location"),
    ("ExceptionInfo", "taskManagerId"),
}


def fail(msg):
    print("FAIL: " + msg)
    sys.exit(1)


def strict(schema, name=None):
    """Every property of every object schema required (recursively)."""
    if isinstance(schema, dict):
        for k in ("allOf", "anyOf", "oneOf"):
            for s in schema.get(k, []):
                strict(s)
        if "items" in schema:
            strict(schema["items"])
        if isinstance(schema.get("additionalProperties"), dict):
            strict(schema["additionalProperties"])
        props = schema.get("properties")
        if props:
            for p, ps in props.items():
                strict(ps)
                if (name, p) in NULLABLE:
                    props[p] = {"anyOf": [ps, {"type": "null"}]}
            schema["required"] = sorted(props)
    return schema


def load_spec(root):
    import yaml  # python3-yaml
    path = os.path.join(root, "..", "shared", "flink", "rest_v1_dispatcher.yml")
    if not os.path.exists(path):
        print("SKIP: %s is not there (Flink's OpenAPI description lives in ../shared, "
              "which a fresh clone has not)" % os.path.normpath(path))
        sys.exit(77)
    with open(path) as f:
        spec = yaml.safe_load(f)
    for name, s in spec["components"]["schemas"].items():
        strict(s, name)
    return spec


class Checker:
    def __init__(self, spec):
        import jsonschema  # python3-jsonschema
        self.js = jsonschema
        self.spec = spec
        self.resolver = jsonschema.RefResolver.from_schema(spec)
        self.routes = []
        for tmpl, ops in spec["paths"].items():
            rx = "^" + re.sub(r"\{[^}]+\}", "[^/]+", tmpl) + "$"
            self.routes.append((rx, tmpl, ops))
        self.checked = {}

    def schema_for(self, path, method="get", status="200"):
        best = None
        for rx, tmpl, ops in self.routes:
            if re.match(rx, path) and method in ops:
                # the most literal template wins (/jobs/overview over /jobs/{jobid})
                score = -tmpl.count("{")
                if best is None or score > best[0]:
                    best = (score, tmpl, ops[method])
        if not best:
            fail("%s %s is not in Flink's REST API" % (method.upper(), path))
        resp = best[2]["responses"].get(status)
        if resp is None:
            fail("%s %s: Flink never answers %s" % (method.upper(), path, status))
        schema = resp.get("content", {}).get("application/json", {}).get("schema")
        return best[1], schema

    def validate(self, path, body, phase):
        tmpl, schema = self.schema_for(path)
        v = self.js.Draft7Validator(schema, resolver=self.resolver)
        errors = sorted(v.iter_errors(body), key=lambda e: list(e.path))
        if errors:
            e = errors[0]
            fail("%s (%s): %s at %s\n  body: %s" % (path, phase, e.message,
                 "/".join(str(p) for p in e.path) or "(root)", json.dumps(body)[:600]))
        self.checked[tmpl] = self.checked.get(tmpl, 0) + 1


def http(url, method="GET", timeout=5):
    req = urllib.request.Request(url, method=method)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, json.loads(r.read() or b"null")
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"null")


def http_text(url, timeout=5):
    with urllib.request.urlopen(url, timeout=timeout) as r:
        return r.read().decode()


def get(base, path):
    status, body = http(base + path)
    if status != 200:
        fail("GET %s%s: %d %s" % (base, path, status, body))
    return body


def walk(chk, base, phase):
    """Every endpoint this cluster serves, validated."""
    for p in ("/config", "/overview", "/jobs", "/jobs/overview", "/jobmanager/config",
              "/taskmanagers"):
        chk.validate(p, get(base, p), phase)
    for tm in get(base, "/taskmanagers")["taskmanagers"]:
        p = "/taskmanagers/" + tm["id"]
        chk.validate(p, get(base, p), phase)
    for job in get(base, "/jobs")["jobs"]:
        j = "/jobs/" + job["id"]
        if not re.match(r"^[0-9a-f]{32}$", job["id"]):
            fail("job id %s is not Flink's 32-hex form" % job["id"])
        details = get(base, j)
        chk.validate(j, details, phase)
        for sub in ("/plan", "/exceptions", "/checkpoints", "/checkpoints/config"):
            chk.validate(j + sub, get(base, j + sub), phase)
        for cp in get(base, j + "/checkpoints")["history"]:
            p = "%s/checkpoints/details/%d" % (j, cp["id"])
            chk.validate(p, get(base, p), phase)
        for v in details["vertices"]:
            if not re.match(r"^[0-9a-f]{32}$", v["id"]):
                fail("vertex id %s is not Flink's 32-hex form" % v["id"])
            p = "%s/vertices/%s" % (j, v["id"])
            chk.validate(p, get(base, p), phase)


def errors_body(status, body, want, what):
    if status != want or not isinstance(body, dict) or list(body) != ["errors"] or \
            not body["errors"] or not all(isinstance(e, str) for e in body["errors"]):
        fail("%s: want %d with {\"errors\": [...]}, got %d %s" % (what, want, status, body))


def check_errors(base):
    s, b = http(base + "/no/such/path")
    errors_body(s, b, 404, "unknown path")
    s, b = http(base + "/jobs/not-a-job-id")
    errors_body(s, b, 400, "malformed job id")
    s, b = http(base + "/jobs/" + "0" * 32)
    errors_body(s, b, 404, "unknown job id")
    job = get(base, "/jobs")["jobs"][0]["id"]
    s, b = http(base + "/jobs/%s/vertices/xyz" % job)
    errors_body(s, b, 400, "malformed vertex id")
    s, b = http(base + "/jobs/%s/checkpoints/details/abc" % job)
    errors_body(s, b, 400, "malformed checkpoint id")
    s, b = http(base + "/jobs/%s/checkpoints/details/999999" % job)
    errors_body(s, b, 404, "unknown checkpoint id")
    s, b = http(base + "/overview", method="DELETE")
    errors_body(s, b, 405, "DELETE /overview")


def check_stderr(path, what):
    """A sanitizer build reports on stderr; the exit code alone may not say."""
    with open(path, errors="replace") as f:
        err = f.read()
    for bad in ("Sanitizer", "runtime error:"):
        if bad in err:
            fail("%s: the sanitizer reported:\n%s" % (what, err[-4000:]))


class Run:
    """minicluster run in the background; its stdout lines as they come."""

    def __init__(self, exe, scn, mode, report):
        self.stderr_path = report + ".stderr"
        self.stderr = open(self.stderr_path, "w")
        self.p = subprocess.Popen([exe, "run", scn, "--mode", mode, "--rest", "0", "--quiet",
                                   "--json", report], stdout=subprocess.PIPE,
                                  stderr=self.stderr, text=True)
        os.set_blocking(self.p.stdout.fileno(), False)
        self.buf = ""
        self.clusters = {}

    def poll(self):
        try:
            chunk = self.p.stdout.read()
        except (BlockingIOError, TypeError):
            chunk = None
        if chunk:
            self.buf += chunk
        for m in re.finditer(r"^rest: (\S+) (http://127\.0\.0\.1:\d+)$", self.buf, re.M):
            self.clusters[m.group(1)] = m.group(2)


def job_of(base, name):
    for j in get(base, "/jobs/overview")["jobs"]:
        if j["name"] == name:
            return j
    return None


def wait_for(run, what, cond, deadline):
    """Polls cond() (a base URL, or None) until it holds or the deadline passes."""
    while time.monotonic() < deadline:
        run.poll()
        if run.p.poll() is not None and not cond():
            fail("the run ended before %s" % what)
        try:
            r = cond()
        except (urllib.error.URLError, ConnectionError, OSError):
            r = None
        if r:
            return r
        time.sleep(0.02)    # a poll interval, not a synchronisation
    fail("timed out waiting for %s" % what)


def mode_test(chk, exe, scn, mode, tmp):
    report = os.path.join(tmp, "run-%s.json" % mode)
    run = Run(exe, scn, mode, report)
    deadline = time.monotonic() + DEADLINE_S
    try:
        def orders_cluster():
            for name, base in run.clusters.items():
                j = job_of(base, "orders")
                if j:
                    return base, j
            return None

        def phase(pred):
            def c():
                found = orders_cluster()
                if not found:
                    return None
                base, j = found
                d = get(base, "/jobs/" + j["jid"])
                cps = get(base, "/jobs/%s/checkpoints" % j["jid"])["counts"]["completed"]
                return (base, j) if pred(d, cps) else None
            return c

        base, _ = wait_for(run, "orders RUNNING before the fault",
                           phase(lambda d, cps: d["state"] == "RUNNING" and 1 <= cps < 6),
                           deadline)
        for b in list(run.clusters.values()):
            walk(chk, b, mode + " before")
        check_errors(base)
        base, j = wait_for(run, "orders restarting", phase(
            lambda d, cps: d["state"] in ("FAILING", "RESTARTING")), deadline)
        for b in list(run.clusters.values()):
            walk(chk, b, mode + " during")
        ex = get(base, "/jobs/%s/exceptions" % j["jid"])
        if not ex["exceptionHistory"]["entries"] or not ex["root-exception"]:
            fail("%s: the failure is not in /exceptions: %s" % (mode, ex))
        base, j = wait_for(run, "orders running again after the restart", phase(
            lambda d, cps: d["state"] == "RUNNING" and d["timestamps"]["RESTARTING"] > 0),
            deadline)
        for b in list(run.clusters.values()):
            walk(chk, b, mode + " after")
        # Cancel: 202, then the job ends CANCELED; a second cancel conflicts.
        s, b = http(base + "/jobs/%s?mode=cancel" % j["jid"], method="PATCH")
        if s != 202:
            fail("%s: PATCH cancel: %d %s" % (mode, s, b))
        wait_for(run, "orders CANCELED", lambda: get(base, "/jobs/" + j["jid"])["state"]
                 == "CANCELED", deadline)
        s, b = http(base + "/jobs/%s?mode=cancel" % j["jid"], method="PATCH")
        errors_body(s, b, 409, "cancel of a cancelled job")
        walk(chk, base, mode + " cancelled")
        rc = run.p.wait(timeout=max(1, deadline - time.monotonic()))
        run.stderr.close()
        check_stderr(run.stderr_path, mode)
        if rc not in (0, 1):
            fail("%s: minicluster run exited %d" % (mode, rc))
        with open(report) as f:
            rep = json.load(f)
        urls = {e["cluster"]: e["rest"] for e in rep.get("endpoints", [])}
        if urls != run.clusters:
            fail("%s: the report's endpoints %s are not the printed ones %s"
                 % (mode, urls, run.clusters))
        print("ok %s: %d clusters served and validated" % (mode, len(run.clusters)))
    finally:
        if run.p.poll() is None:
            run.p.kill()
            run.p.wait()


def main():
    exe, root = sys.argv[1], sys.argv[2]
    spec = load_spec(root)
    chk = Checker(spec)
    scn = os.path.join(root, "tests", "data", "rest-faulted.scn")
    with tempfile.TemporaryDirectory() as tmp:
        for mode in ("session", "per-job", "application"):
            mode_test(chk, exe, scn, mode, tmp)
    for tmpl, n in sorted(chk.checked.items()):
        print("  %4d valid  %s" % (n, tmpl))
    want = {"/config", "/overview", "/jobs", "/jobs/overview", "/jobs/{jobid}",
            "/jobs/{jobid}/plan", "/jobs/{jobid}/exceptions", "/jobs/{jobid}/checkpoints",
            "/jobs/{jobid}/checkpoints/config",
            "/jobs/{jobid}/checkpoints/details/{checkpointid}",
            "/jobs/{jobid}/vertices/{vertexid}", "/taskmanagers",
            "/taskmanagers/{taskmanagerid}", "/jobmanager/config"}
    missing = want - set(chk.checked)
    if missing:
        fail("never validated: %s" % sorted(missing))


if __name__ == "__main__":
    main()
