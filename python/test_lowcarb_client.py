# SPDX-License-Identifier: Apache-2.0
"""lowcarb_client against the real daemon (``lowcarb daemon --foreground``
with a file provider and --clock-speed 3600: one scheduled hour per real
second). $LOWCARB_BIN names the binary (ctest sets it); without it the
daemon tests are skipped with a message."""

import datetime
import io
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import textwrap
import time
import unittest
from contextlib import redirect_stderr

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import lowcarb_client  # noqa: E402

LOWCARB_BIN = os.environ.get("LOWCARB_BIN", "")
SPEED = 3600


def intensity_csv(hours=72):
    """DE: 500 g/kWh for the next two hours, then 80. Hourly, from the hour
    before now."""
    now = datetime.datetime.now(datetime.timezone.utc)
    hour = now.replace(minute=0, second=0, microsecond=0)
    lines = ["timestamp,zone,gco2_per_kwh"]
    for i in range(-1, hours):
        t = hour + datetime.timedelta(hours=i)
        lines.append("%s,DE,%s" % (t.strftime("%Y-%m-%dT%H:%M:%SZ"),
                                   500 if i < 2 else 80))
    return "\n".join(lines) + "\n"


def parse_time(text):
    return datetime.datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ")


@unittest.skipUnless(LOWCARB_BIN and os.access(LOWCARB_BIN, os.X_OK),
                     "set LOWCARB_BIN to the lowcarb binary (ctest does)")
class DaemonTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="lowcarb-py-")
        os.chmod(self.dir, 0o755)
        self.work = os.path.join(self.dir, "work")
        os.mkdir(self.work)
        with open(os.path.join(self.dir, "intensity.csv"), "w") as f:
            f.write(intensity_csv())
        self.config = os.path.join(self.dir, "lowcarb.yaml")
        with open(self.config, "w") as f:
            f.write(textwrap.dedent("""\
                providers:
                  testfile:
                    type: file
                    path: %s
                zones:
                  - id: DE
                    providers: [testfile]
                    executor: local
                daemon:
                  poll_period: 1s
                  sample_period: 1m
                """ % os.path.join(self.dir, "intensity.csv")))
        self.socket = os.path.join(self.dir, "lowcarb.sock")
        self.log = open(os.path.join(self.dir, "daemon.log"), "wb")
        self.daemon = subprocess.Popen(
            [LOWCARB_BIN, "--config", self.config, "daemon", "--foreground",
             "--state-dir", os.path.join(self.dir, "state"), "--socket",
             self.socket, "--clock-speed", str(SPEED)],
            stdout=self.log, stderr=self.log)
        deadline = time.monotonic() + 20
        while True:
            try:
                with lowcarb_client.Client(self.socket) as c:
                    c.ping()
                break
            except lowcarb_client.DaemonUnavailable:
                if time.monotonic() > deadline or self.daemon.poll() is not None:
                    self.fail("the daemon did not start: " + self.daemon_log())
                time.sleep(0.1)
        self.client = lowcarb_client.Client(self.socket)

    def tearDown(self):
        self.client.close()
        if self.daemon.poll() is None:
            self.daemon.send_signal(signal.SIGTERM)
            try:
                self.daemon.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.daemon.kill()
                self.daemon.wait()
        self.log.close()
        shutil.rmtree(self.dir, ignore_errors=True)

    def daemon_log(self):
        with open(os.path.join(self.dir, "daemon.log"), "rb") as f:
            return f.read().decode(errors="replace")[-3000:]

    def test_submit_status_and_wait_run_a_job_at_its_clean_hour(self):
        marker = os.path.join(self.work, "ran")
        job = self.client.submit(["sh", "-c", "echo ran > " + marker],
                                 duration=3600, deadline="+12h",
                                 zones=["DE"], working_dir=self.work)

        self.assertEqual("queued", job["state"])
        planned = parse_time(job["planned_start"])
        submitted = parse_time(job["submitted_at"])
        self.assertGreaterEqual((planned - submitted).total_seconds(), 55 * 60)
        status = self.client.status(job["id"])
        self.assertEqual(job["id"], status["id"])
        done = self.client.wait(job["id"], states=("succeeded",), timeout=30,
                                poll=0.1)
        self.assertEqual("succeeded", done["state"])
        self.assertGreaterEqual(parse_time(done["started_at"]), planned)
        with open(marker) as f:
            self.assertEqual("ran\n", f.read())
        ids = [j["id"] for j in self.client.jobs(include_finished=True)]
        self.assertIn(job["id"], ids)

    def test_daemon_errors_raise_with_their_code(self):
        with self.assertRaises(lowcarb_client.LowcarbError) as caught:
            self.client.submit(["true"], duration=3600, deadline="tomorrow")
        self.assertEqual("invalid_argument", caught.exception.code)
        self.assertIn("deadline", caught.exception.message)
        with self.assertRaises(lowcarb_client.LowcarbError) as missing:
            self.client.status("no-such-job")
        self.assertEqual("not_found", missing.exception.code)

    def test_green_window_decorator_waits_for_the_daemons_planned_start(self):
        calls = []

        @lowcarb_client.green_window(duration="1h", deadline="+12h",
                                     zones=["DE"], socket_path=self.socket,
                                     timeout=30, poll=0.1)
        def train(x):
            calls.append(self.client.ping()["now"])
            return x * 2

        started = time.monotonic()
        self.assertEqual(42, train(21))
        waited = time.monotonic() - started

        # Two dirty hours at 3600x: about two real seconds.
        self.assertGreater(waited, 1.0)
        ran_at = parse_time(calls[0])
        window = [j for j in self.client.jobs(include_finished=True)
                  if j["name"] == "train"]
        self.assertEqual(1, len(window))
        self.assertGreaterEqual(ran_at, parse_time(window[0]["planned_start"]))

    def test_checkpointer_pauses_and_resumes_a_training_loop(self):
        state = os.path.join(self.work, "step")
        script = os.path.join(self.work, "train.py")
        with open(script, "w") as f:
            f.write(textwrap.dedent("""\
                import os, sys, time
                sys.path.insert(0, %r)
                from lowcarb_client import Checkpointer
                ckpt = Checkpointer()
                step = int(open(%r).read()) if ckpt.resumed else 0
                with open(%r, "a") as log:
                    log.write("start %%d resumed=%%s\\n" %% (step, ckpt.resumed))
                while step < 60:
                    time.sleep(0.05)
                    step += 1
                    if ckpt.should_stop():
                        open(%r, "w").write(str(step))
                        ckpt.exit()
                open(%r, "w").write("done %%d" %% step)
                """ % (os.path.dirname(os.path.abspath(__file__)), state,
                       os.path.join(self.work, "log"), state,
                       os.path.join(self.work, "result"))))
        # FR-less config: DE is dirty now, so ask for a run-now policy.
        job = self.client.submit([sys.executable, script], duration=600,
                                 deadline="+12h", zones=["DE"],
                                 interruptible=True, pause_mode="checkpoint",
                                 policy="run-now", working_dir=self.work)
        self.client.wait(job["id"], states=("running",), timeout=30, poll=0.05)
        time.sleep(0.5)

        self.client.call({"op": "pause", "id": job["id"]})
        self.client.wait(job["id"], states=("paused",), timeout=30, poll=0.05)
        with open(state) as f:
            saved = int(f.read())
        self.client.call({"op": "resume", "id": job["id"]})
        done = self.client.wait(job["id"], states=("succeeded",), timeout=60,
                                poll=0.1)

        self.assertEqual("succeeded", done["state"], self.daemon_log())
        self.assertGreater(saved, 0)
        self.assertLess(saved, 60)
        with open(os.path.join(self.work, "result")) as f:
            self.assertEqual("done 60", f.read())
        with open(os.path.join(self.work, "log")) as f:
            lines = f.read().splitlines()
        self.assertEqual(["start 0 resumed=False",
                          "start %d resumed=True" % saved], lines)


class NoDaemonTest(unittest.TestCase):
    def test_decorator_runs_at_once_without_a_daemon(self):
        path = os.path.join(tempfile.gettempdir(),
                            "lowcarb-no-daemon-%d.sock" % os.getpid())

        @lowcarb_client.green_window(duration="1h", deadline="+12h",
                                     socket_path=path)
        def work():
            return "ran"

        err = io.StringIO()
        with redirect_stderr(err):
            started = time.monotonic()
            self.assertEqual("ran", work())
        self.assertLess(time.monotonic() - started, 5)
        self.assertIn("no lowcarb daemon at " + path, err.getvalue())
        self.assertIn("running work now", err.getvalue())

    def test_checkpointer_turns_the_signal_into_a_flag(self):
        with lowcarb_client.Checkpointer(signals=(signal.SIGUSR1,)) as ckpt:
            self.assertFalse(ckpt.should_stop())
            os.kill(os.getpid(), signal.SIGUSR1)
            time.sleep(0.05)
            self.assertTrue(ckpt.should_stop())
            self.assertEqual(signal.SIGUSR1, ckpt.signal)
        self.assertEqual(signal.SIG_DFL, signal.getsignal(signal.SIGUSR1))

    def test_default_socket_follows_the_environment(self):
        old = dict(os.environ)
        try:
            os.environ["LOWCARB_SOCKET"] = "/tmp/x.sock"
            self.assertEqual("/tmp/x.sock", lowcarb_client.default_socket_path())
            del os.environ["LOWCARB_SOCKET"]
            os.environ["XDG_STATE_HOME"] = "/tmp/state-home"
            if os.geteuid() != 0:
                self.assertEqual("/tmp/state-home/lowcarb/lowcarb.sock",
                                 lowcarb_client.default_socket_path())
            else:
                self.assertEqual("/var/lib/lowcarb/lowcarb.sock",
                                 lowcarb_client.default_socket_path())
        finally:
            os.environ.clear()
            os.environ.update(old)


if __name__ == "__main__":
    unittest.main()
