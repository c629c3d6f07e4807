# SPDX-License-Identifier: Apache-2.0
"""A small client for the lowcarb daemon, standard library only.

- ``Client``: submit / status / wait / cancel / list / report over the
  daemon's Unix socket (newline-delimited JSON, see scheduler/api/README.md).
- ``wait_for_green_window`` and the ``green_window`` decorator: block until
  the daemon's planned start for work of a given length and deadline, then
  run; without a daemon, run at once.
- ``Checkpointer``: for interruptible jobs (``pause_mode: checkpoint``): the
  daemon pauses a job by sending it a signal (SIGTERM by default); the loop
  asks ``should_stop()`` between steps, saves its state and exits, and is
  started again later with ``LOWCARB_RESUME=1``.

Example::

    from lowcarb_client import green_window, Checkpointer

    @green_window(duration="2h", deadline="+12h", zones=["DE"])
    def train():
        ckpt = Checkpointer()
        step = load_step() if ckpt.resumed else 0
        while step < 1000:
            do_step(step)
            step += 1
            if ckpt.should_stop():
                save_step(step)
                ckpt.exit()
"""

import functools
import json
import os
import signal
import socket
import sys
import time

__all__ = [
    "Checkpointer",
    "Client",
    "DaemonUnavailable",
    "LowcarbError",
    "default_socket_path",
    "green_window",
    "wait_for_green_window",
]

STARTED_STATES = ("starting", "running", "succeeded")
FAILED_STATES = ("failed", "cancelled")


class LowcarbError(Exception):
    """The daemon answered with an error: ``code`` is one of the protocol's
    codes (invalid_argument, not_found, permission_denied, conflict,
    unavailable, timeout, internal)."""

    def __init__(self, code, message):
        super().__init__("%s: %s" % (code, message))
        self.code = code
        self.message = message


class DaemonUnavailable(LowcarbError):
    """No daemon answers on the socket."""

    def __init__(self, path, why):
        super().__init__("unavailable",
                         "no lowcarb daemon at %s (%s)" % (path, why))
        self.path = path


def default_socket_path():
    """$LOWCARB_SOCKET, else the daemon's default: <state_dir>/lowcarb.sock
    with state_dir /var/lib/lowcarb for root, else $XDG_STATE_HOME/lowcarb
    or ~/.local/state/lowcarb (as ``lowcarb`` itself resolves it without a
    configuration file)."""
    env = os.environ.get("LOWCARB_SOCKET")
    if env:
        return env
    if os.geteuid() == 0:
        state = "/var/lib/lowcarb"
    else:
        base = os.environ.get("XDG_STATE_HOME") or os.path.join(
            os.path.expanduser("~"), ".local", "state")
        state = os.path.join(base, "lowcarb")
    return os.path.join(state, "lowcarb.sock")


class Client:
    """One connection to the daemon; requests are answered in order.
    Not thread-safe. Use as a context manager or call close()."""

    def __init__(self, socket_path=None, timeout=30.0):
        self.socket_path = socket_path or default_socket_path()
        self._timeout = timeout
        self._sock = None
        self._pending = b""

    def connect(self):
        if self._sock is not None:
            return self
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(self._timeout)
        try:
            sock.connect(self.socket_path)
        except OSError as e:
            sock.close()
            raise DaemonUnavailable(self.socket_path, e.strerror or str(e))
        self._sock = sock
        return self

    def close(self):
        if self._sock is not None:
            self._sock.close()
            self._sock = None
            self._pending = b""

    def __enter__(self):
        return self.connect()

    def __exit__(self, *exc):
        self.close()

    def call(self, request):
        """Sends one request object; returns its ``result`` or raises
        LowcarbError (DaemonUnavailable when the connection fails)."""
        self.connect()
        line = json.dumps(request, separators=(",", ":")).encode() + b"\n"
        try:
            self._sock.sendall(line)
            while b"\n" not in self._pending:
                chunk = self._sock.recv(65536)
                if not chunk:
                    raise OSError("the daemon closed the connection")
                self._pending += chunk
        except OSError as e:
            self.close()
            raise DaemonUnavailable(self.socket_path, str(e))
        answer, _, self._pending = self._pending.partition(b"\n")
        doc = json.loads(answer)
        if "error" in doc:
            raise LowcarbError(doc["error"].get("code", "internal"),
                               doc["error"].get("message", ""))
        return doc["result"]

    def ping(self):
        return self.call({"op": "ping"})

    def submit(self, argv=None, duration=None, deadline=None, **fields):
        """Queues a job; returns it (with ``id``, ``planned_start``...).
        ``duration`` is seconds or "2h30m"; ``deadline`` ISO 8601 with an
        offset or "+12h"; other fields as the protocol's submit (zones,
        name, interruptible, pause_mode, power_watts, shell_command, ...).
        ``working_dir`` defaults to the current directory."""
        request = {"op": "submit"}
        if argv is not None:
            request["argv"] = list(argv)
        if duration is not None:
            request["duration"] = duration
        if deadline is not None:
            request["deadline"] = deadline
        request.setdefault("working_dir", os.getcwd())
        request.update(fields)
        return self.call(request)

    def status(self, job_id):
        """The job with its history, log paths and warnings."""
        return self.call({"op": "show", "id": job_id})

    def cancel(self, job_id):
        return self.call({"op": "cancel", "id": job_id})

    def jobs(self, include_finished=False, limit=100):
        return self.call({"op": "list", "all": include_finished,
                          "limit": limit})["jobs"]

    def report(self, job_id=None):
        request = {"op": "report"}
        if job_id:
            request["id"] = job_id
        return self.call(request)

    def wait(self, job_id, states=STARTED_STATES, timeout=None, poll=0.5):
        """Polls until the job is in one of ``states``; returns it. Raises
        LowcarbError("failed", ...) when it fails or is cancelled first,
        TimeoutError after ``timeout`` seconds."""
        end = None if timeout is None else time.monotonic() + timeout
        while True:
            job = self.status(job_id)
            if job["state"] in states:
                return job
            if job["state"] in FAILED_STATES:
                raise LowcarbError("failed", "job %s %s: %s" % (
                    job_id, job["state"], job.get("message", "")))
            if end is not None and time.monotonic() >= end:
                raise TimeoutError("job %s still %s after %ss" %
                                   (job_id, job["state"], timeout))
            time.sleep(poll)


def wait_for_green_window(duration, deadline, zones=None, name=None,
                          socket_path=None, timeout=None, poll=0.5):
    """Blocks until the daemon's planned start for work of ``duration``
    that must end by ``deadline`` (like ``lowcarb wait``): submits a
    placeholder job (``true``) that the daemon plans like any other, and
    returns when the daemon starts it. Returns a dict: ``{"waited": True,
    "job": job}``, or ``{"waited": False, "reason": ...}`` when no daemon
    answers (the caller runs at once). Errors other than an absent daemon
    (a bad deadline, say) raise LowcarbError."""
    client = Client(socket_path)
    try:
        try:
            client.connect()
        except DaemonUnavailable as e:
            return {"waited": False, "reason": e.message}
        fields = {"name": name or "python: green window"}
        if zones:
            fields["zones"] = list(zones)
        job = client.submit(["true"], duration=duration, deadline=deadline,
                            **fields)
        try:
            started = client.wait(job["id"], timeout=timeout, poll=poll)
        except BaseException:
            # KeyboardInterrupt or timeout: do not leave the placeholder.
            try:
                client.cancel(job["id"])
            except LowcarbError:
                pass
            raise
        return {"waited": True, "job": started, "planned": job}
    finally:
        client.close()


def green_window(duration, deadline, zones=None, socket_path=None,
                 timeout=None, poll=0.5):
    """Decorator: each call first waits for the green window (see
    wait_for_green_window), then runs the function; without a daemon it
    runs at once (a warning goes to stderr)."""

    def decorate(function):
        @functools.wraps(function)
        def wrapper(*args, **kwargs):
            outcome = wait_for_green_window(
                duration, deadline, zones=zones, name=function.__name__,
                socket_path=socket_path, timeout=timeout, poll=poll)
            if not outcome["waited"]:
                print("lowcarb: %s; running %s now" %
                      (outcome["reason"], function.__name__), file=sys.stderr)
            return function(*args, **kwargs)

        return wrapper

    return decorate


class Checkpointer:
    """Turns the daemon's checkpoint signal into a flag a training loop
    polls between steps. ``resumed`` is True when the daemon restarted the
    job after a checkpoint (LOWCARB_RESUME=1); ``segment`` is its
    LOWCARB_SEGMENT. Installs handlers for ``signals`` (default SIGTERM,
    SIGUSR1, SIGUSR2: whichever `checkpoint_signal` is configured) and
    restores the old ones on ``restore()`` or leaving a ``with`` block."""

    def __init__(self, signals=(signal.SIGTERM, signal.SIGUSR1,
                                signal.SIGUSR2)):
        self.requested = False
        self.signal = None
        self.resumed = os.environ.get("LOWCARB_RESUME") == "1"
        self.segment = int(os.environ.get("LOWCARB_SEGMENT", "0") or 0)
        self.job_id = os.environ.get("LOWCARB_JOB_ID")
        self._old = {}
        for signo in signals:
            self._old[signo] = signal.signal(signo, self._on_signal)

    def _on_signal(self, signo, _frame):
        self.requested = True
        self.signal = signo

    def should_stop(self):
        """True once the checkpoint signal has arrived."""
        return self.requested

    def exit(self, code=0):
        """Exits after the state is saved; the daemon starts the job again
        later with LOWCARB_RESUME=1."""
        self.restore()
        sys.exit(code)

    def restore(self):
        for signo, handler in self._old.items():
            signal.signal(signo, handler)
        self._old = {}

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.restore()
