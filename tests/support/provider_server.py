#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""A loopback stand-in for the carbon-intensity APIs, for tests.

Serves the recorded responses in <data-dir> (../shared/data/api-responses)
by route, checks the providers' authentication, counts requests per path and
injects faults on request. Standard library only.

    provider_server.py --data-dir DIR [--em-token T] [--wt-user U]
                       [--wt-password P] [--wt-token T] [--max-lifetime S]

Prints the port it listens on (127.0.0.1, ephemeral) as the first line of
stdout, then serves until killed, until stdin closes, or --max-lifetime
seconds have passed.

Control endpoints:
  GET /__stats                   {"counts": {"/path": n, ...}, "last_headers":
                                  {"/path": {...}}, "last_query": {...}}
  GET /__reset                   forget counts and faults
  GET /__fault?path=P&mode=M&count=N[&retry_after=S][&delay=S][&size=B]
      the next N requests whose path starts with P fail with mode M:
      500 | 503 | 429 (Retry-After: S) | 401 | 403 | timeout (sleeps S
      seconds, default 5, then answers normally) | html (200 text/html) |
      truncated (200, half the body) | empty (200, arrays emptied) |
      problem (400 application/problem+json) | big (200, B bytes) |
      uk_error (200 with the UK API's error object) |
      nulls (200, an Electricity Maps forecast of 48 hourly points from the
      current hour, every carbonIntensity null)
  GET /__echo                    200 with the request headers as JSON and
                                 extra response headers X-Test-One, X-Test-Two
"""

import argparse
import base64
import json
import os
import re
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

EM = "electricitymaps/"
WT = "watttime/"
UK = "uk-carbonintensity/"
SDK = "carbon-aware-sdk/"

# (path regex, file relative to the data dir, auth kind)
ROUTES = [
    (r"/v3/carbon-intensity/latest", EM + "v3-carbon-intensity-latest.green-elephpant.json", "em"),
    (r"/v3/carbon-intensity/forecast", EM + "v3-carbon-intensity-forecast.green-elephpant.json", "em"),
    (r"/v3/carbon-intensity/history", EM + "v3-carbon-intensity-history.aioelectricitymaps.json", "em"),
    (r"/v3/carbon-intensity/past-range", EM + "v3-carbon-intensity-past-range.if-electricitymaps.json", "em"),
    (r"/v3/zones", EM + "v3-zones.aioelectricitymaps.json", None),
    (r"/login", WT + "login.documented-example.json", "wt-basic"),
    (r"/v3/forecast/historical", WT + "v3-forecast-historical.documented-example.json", "wt-bearer"),
    (r"/v3/forecast", WT + "v3-forecast.documented-example.json", "wt-bearer"),
    (r"/v3/historical", WT + "v3-historical.documented-example.json", "wt-bearer"),
    (r"/v3/region-from-loc", WT + "v3-region-from-loc.documented-example.json", "wt-bearer"),
    (r"/v3/signal-index", WT + "aiowatttime.realtime_emissions_response.json", "wt-bearer"),
    (r"/intensity/[^/]+/fw24h", UK + "intensity-2020-05-21T2100Z-fw24h.emoncms-demandshaper.json", None),
    (r"/intensity/[^/]+/fw48h", UK + "intensity-from-fw48h.bluehands.json", None),
    (r"/intensity/[^/]+/pt24h", UK + "intensity-from-pt24h-truncated-8.nmpowell.json", None),
    (r"/intensity/[^/]+/[^/]+", UK + "intensity-from-pt24h-truncated-8.nmpowell.json", None),
    (r"/regional/intensity/[^/]+/fw(24|48)h/regionid/\d+", UK + "regional-intensity-from-fw48h-regionid-13.bluehands.json", None),
    (r"/regional/intensity/[^/]+/fw(24|48)h/postcode/\w+", UK + "regional-intensity-fw24h-postcode-BS7-truncated.jnioche-carbonintensity-api.json", None),
    (r"/regional/intensity/[^/]+/fw48h", UK + "regional-intensity-from-fw48h-all-regions-truncated-1.nmpowell.json", None),
    (r"/emissions/bylocations/best", SDK + "emissions-bylocations-best.documented-example.gsf-quickstart.json", None),
    (r"/emissions/bylocations?", SDK + "emissions-bylocation.documented-example.gsf-quickstart.json", None),
    (r"/emissions/forecasts/current", None, None),  # Synthesised, see below.
]


def sdk_forecast_body(query, data_dir):
    """/emissions/forecasts/current has no recording: build its documented
    shape (EmissionsForecast: generatedAt, location, forecastData[{location,
    timestamp, duration minutes, value}]) from the recorded bylocation values,
    one element per `location` parameter."""
    with open(os.path.join(data_dir, SDK + "emissions-bylocation.documented-example.gsf-quickstart.json")) as f:
        recorded = sorted(json.load(f), key=lambda e: e["time"])
    out = []
    for location in query.get("location", ["westus"]):
        out.append({
            "generatedAt": recorded[0]["time"],
            "requestedAt": recorded[0]["time"],
            "location": location,
            "dataStartAt": recorded[0]["time"],
            "dataEndAt": recorded[-1]["time"],
            "windowSize": 0,
            "optimalDataPoints": [],
            "forecastData": [{"location": location, "timestamp": e["time"],
                              "duration": 5, "value": e["rating"]} for e in recorded],
        })
    return json.dumps(out).encode()


def emptied(doc):
    if isinstance(doc, list):
        return []
    if isinstance(doc, dict):
        for key in ("data", "forecast", "history", "forecastData"):
            if isinstance(doc.get(key), list):
                doc[key] = []
            elif isinstance(doc.get(key), dict):
                doc[key] = emptied(doc[key])
    return doc


class State:
    def __init__(self):
        self.lock = threading.Lock()
        self.counts = {}
        self.last_headers = {}
        self.last_query = {}
        self.faults = []  # [path prefix, mode, remaining, params]


def make_handler(args, state):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, fmt, *a):  # Quiet: tests read stdout/stderr.
            pass

        def send_body(self, status, body, content_type="application/json", headers=None, length=None):
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body) if length is None else length))
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            try:
                self.wfile.write(body)
            except (BrokenPipeError, ConnectionResetError):
                pass

        def json(self, status, doc, **kw):
            self.send_body(status, json.dumps(doc).encode(), **kw)

        def do_GET(self):
            url = urllib.parse.urlsplit(self.path)
            path = url.path
            query = urllib.parse.parse_qs(url.query)
            if path == "/__stats":
                with state.lock:
                    return self.json(200, {"counts": state.counts, "last_headers": state.last_headers,
                                           "last_query": state.last_query})
            if path == "/__reset":
                with state.lock:
                    state.counts.clear()
                    state.faults.clear()
                    state.last_headers.clear()
                    state.last_query.clear()
                return self.json(200, {"ok": True})
            if path == "/__fault":
                params = {k: v[0] for k, v in query.items()}
                with state.lock:
                    state.faults.append([params.get("path", "/"), params.get("mode", "500"),
                                         int(params.get("count", "1")), params])
                return self.json(200, {"ok": True})
            if path == "/__echo":
                return self.json(200, {k.lower(): v for k, v in self.headers.items()},
                                 headers={"X-Test-One": "first value", "X-Test-Two": "  padded  "})

            with state.lock:
                state.counts[path] = state.counts.get(path, 0) + 1
                state.last_headers[path] = {k.lower(): v for k, v in self.headers.items()}
                state.last_query[path] = query
                fault = None
                for entry in state.faults:
                    if path.startswith(entry[0]) and entry[2] > 0:
                        entry[2] -= 1
                        fault = entry
                        break
            mode = fault[1] if fault else None
            params = fault[3] if fault else {}
            if mode == "timeout":
                time.sleep(float(params.get("delay", "5")))
            elif mode in ("500", "503"):
                return self.json(int(mode), {"error": "injected server error", "message": "try later"})
            elif mode == "429":
                return self.json(429, {"error": "rate limited"}, headers={"Retry-After": params.get("retry_after", "1")})
            elif mode in ("401", "403"):
                # Echo the credentials, as careless servers do.
                return self.json(int(mode), {"error": "injected " + mode,
                                             "message": "rejected " + self.headers.get("Authorization", "")
                                             + " " + self.headers.get("auth-token", "")})
            elif mode == "html":
                return self.send_body(200, b"<html><head><title>502 Bad Gateway</title></head><body><h1>Bad Gateway</h1>"
                                      b"<p>upstream said no</p></body></html>", content_type="text/html")
            elif mode == "problem":
                return self.json(400, {"type": "https://tools.ietf.org/html/rfc7231#section-6.5.1",
                                       "title": "One or more validation errors occurred.", "status": 400,
                                       "detail": "location 'atlantis' is not a known location",
                                       "traceId": "00-abc-def-00"},
                                 content_type="application/problem+json")
            elif mode == "big":
                return self.send_body(200, b"[" + b" " * int(params.get("size", "100000")) + b"]")
            elif mode == "nulls":
                hour = int(time.time()) // 3600 * 3600
                stamp = lambda t: time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime(t))
                return self.json(200, {"zone": query.get("zone", ["?"])[0],
                                       "forecast": [{"carbonIntensity": None, "datetime": stamp(hour + 3600 * i)}
                                                    for i in range(48)],
                                       "updatedAt": stamp(hour)})
            elif mode == "uk_error":
                return self.json(200, {"error": {"code": "400 Bad Request",
                                                 "message": "Please enter a valid region ID i.e. 1-17. For more information please visit: https://carbon-intensity.github.io/api-definitions/"}})

            route = None
            for pattern, relative, auth in ROUTES:
                if re.fullmatch(pattern, path):
                    route = (relative, auth)
                    break
            if route is None:
                return self.json(404, {"error": "no route for " + path})
            relative, auth = route
            if auth == "em":
                token = self.headers.get("auth-token", "")
                if token != args.em_token:
                    # Like a careless server, echo what it was given.
                    return self.json(401, {"message": "Invalid auth-token: " + token})
            elif auth == "wt-basic":
                expected = "Basic " + base64.b64encode((args.wt_user + ":" + args.wt_password).encode()).decode()
                if self.headers.get("Authorization", "") != expected:
                    return self.json(401, {"error": "bad credentials",
                                           "message": "got " + self.headers.get("Authorization", "")})
            elif auth == "wt-bearer":
                if self.headers.get("Authorization", "") != "Bearer " + args.wt_token:
                    return self.json(401, {"error": "INVALID_TOKEN",
                                           "message": "token rejected: " + self.headers.get("Authorization", "")})
            if relative is None:
                body = sdk_forecast_body(query, args.data_dir)
            else:
                with open(os.path.join(args.data_dir, relative), "rb") as f:
                    body = f.read()
            if mode == "truncated":
                return self.send_body(200, body[: len(body) // 2])
            if mode == "empty":
                return self.send_body(200, json.dumps(emptied(json.loads(body))).encode())
            return self.send_body(200, body)

    return Handler


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--data-dir", required=True)
    parser.add_argument("--em-token", default="test-em-token-0123")
    parser.add_argument("--wt-user", default="wt-user")
    parser.add_argument("--wt-password", default="wt-password-0123")
    # The token in the recorded login response.
    parser.add_argument("--wt-token", default="abcdef0123456789fedcabc")
    parser.add_argument("--max-lifetime", type=float, default=600)
    args = parser.parse_args()

    state = State()
    server = ThreadingHTTPServer(("127.0.0.1", 0), make_handler(args, state))
    server.daemon_threads = True
    print(server.server_address[1], flush=True)

    def watch_stdin():
        # The parent holds our stdin; when it dies, we go too.
        try:
            sys.stdin.read()
        finally:
            os._exit(0)

    threading.Thread(target=watch_stdin, daemon=True).start()
    threading.Timer(args.max_lifetime, lambda: os._exit(0)).start()
    server.serve_forever()


if __name__ == "__main__":
    main()
