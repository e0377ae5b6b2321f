#!/usr/bin/env python3
"""serve_dir.py DIR - serve DIR over HTTP on 127.0.0.1, on a free port.

Prints the port on standard output once the socket listens (the test reads it
from a pipe, so it waits for the event rather than sleeping), then serves
until killed.  Files are served as saved REST responses: DIR/jobs/overview
answers GET /jobs/overview, and a missing path is a 404 as in Flink.
"""
import functools
import http.server
import sys


class Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


handler = functools.partial(Quiet, directory=sys.argv[1])
server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
print(server.server_address[1], flush=True)
server.serve_forever()
