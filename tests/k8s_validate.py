#!/usr/bin/env python3
"""k8s_validate.py CRD_DIR FILE... - validate Kubernetes manifests against CRDs.

A manifest (one YAML document) is valid when its apiVersion/kind name a
CustomResourceDefinition under CRD_DIR, that version is served, and its body
validates against the version's openAPIV3Schema.  The structural schema is
read as `kubectl apply --validate=strict` reads it: a field the schema does
not declare is an error, except below `x-kubernetes-preserve-unknown-fields`;
`x-kubernetes-int-or-string` takes an integer or a string; `nullable` allows
null; apiVersion, kind and metadata are allowed at the root, as the API
server allows them on every object.  Core kinds (v1, batch/v1) have no CRD here: their names are checked
and they are reported as such, never counted as validated.

Prints one line per document (`ok`, `core`, or `FAIL` with the JSON path and
the reason) and exits 1 when any failed, 2 on bad usage.
"""
import glob
import os
import re
import sys

import jsonschema
import yaml

CORE = {("v1", "PersistentVolumeClaim"), ("batch/v1", "Job"), ("v1", "ConfigMap"),
        ("v1", "ServiceAccount")}
# libyaml's loader when there is one: the CRDs are megabytes of YAML.
LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
DNS1123 = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")


def strict(schema):
    """The structural schema as a JSON schema that refuses undeclared fields."""
    if isinstance(schema, list):
        return [strict(s) for s in schema]
    if not isinstance(schema, dict):
        return schema
    out = {k: strict(v) for k, v in schema.items() if not k.startswith("x-kubernetes-")}
    if schema.get("x-kubernetes-int-or-string"):
        out.pop("type", None)
        out = {"anyOf": [{"type": "integer"}, {"type": "string"}], **out}
    if out.pop("nullable", False) and "type" in out:
        out["type"] = [out["type"], "null"]
    preserve = schema.get("x-kubernetes-preserve-unknown-fields")
    if "properties" in out and "additionalProperties" not in out and not preserve:
        out["additionalProperties"] = False
    return out


def load_crds(crd_dir):
    crds = {}
    for path in sorted(glob.glob(os.path.join(crd_dir, "**", "*.y*ml"), recursive=True)):
        if os.sep + "examples" + os.sep in path:
            continue
        for doc in yaml.load_all(open(path), Loader=LOADER):
            if not doc or doc.get("kind") != "CustomResourceDefinition":
                continue
            spec = doc["spec"]
            for v in spec["versions"]:
                key = (spec["group"] + "/" + v["name"], spec["names"]["kind"])
                crds[key] = (v.get("served", False), v["schema"]["openAPIV3Schema"], path)
    return crds


def where(err):
    return "$" + "".join("[%d]" % p if isinstance(p, int) else "." + str(p)
                         for p in err.absolute_path)


def check(doc, crds):
    """None when valid; 'core' for a core kind; else the reason."""
    api, kind = doc.get("apiVersion"), doc.get("kind")
    name = (doc.get("metadata") or {}).get("name", "")
    if not isinstance(name, str) or not DNS1123.match(name) or len(name) > 63:
        return "$.metadata.name: %r is not a DNS-1123 name of at most 63 characters" % (name,)
    if kind == "FlinkDeployment" and len(name) > 45:
        return "$.metadata.name: %r is longer than 45 characters (Flink's cluster-id limit)" % name
    if (api, kind) in CORE:
        return "core"
    if (api, kind) not in crds:
        known = sorted({k for _, k in crds})
        return "$.kind: no CRD defines %s %s (known kinds: %s)" % (api, kind, ", ".join(known))
    served, schema, _ = crds[(api, kind)]
    if not served:
        return "$.apiVersion: %s is not a served version of %s" % (api, kind)
    root = strict(schema)
    # Kubernetes adds these to every root schema whether the CRD names them or not.
    root.setdefault("properties", {}).update({"apiVersion": {"type": "string"},
                                              "kind": {"type": "string"},
                                              "metadata": {"type": "object"}})
    validator = jsonschema.Draft7Validator(root)
    errors = sorted(validator.iter_errors(doc), key=lambda e: list(e.absolute_path))
    if errors:
        return "; ".join("%s: %s" % (where(e), e.message) for e in errors[:5])
    return None


def main(argv):
    if len(argv) < 3:
        print(__doc__.strip().splitlines()[0], file=sys.stderr)
        return 2
    crds = load_crds(argv[1])
    if not crds:
        print("no CRDs under %s" % argv[1], file=sys.stderr)
        return 2
    failed = 0
    for path in argv[2:]:
        for i, doc in enumerate(yaml.load_all(open(path), Loader=LOADER)):
            if doc is None:
                continue
            what = "%s#%d %s %s" % (path, i, doc.get("kind"),
                                    (doc.get("metadata") or {}).get("name"))
            why = check(doc, crds)
            if why is None:
                print("ok   " + what)
            elif why == "core":
                print("core " + what + " (core kind: name checked, no CRD schema)")
            else:
                failed += 1
                print("FAIL " + what + ": " + why)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
