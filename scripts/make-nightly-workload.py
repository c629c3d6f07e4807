#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Writes the Let's Wait Awhile "nightly job" workload as a lowcarb canonical
workload CSV (id,submit,duration,deadline,power_w,interruptible).

Scenario I of Wiesner et al., "Let's Wait Awhile" (Middleware'21): one
30-minute job every day at 01:00, which may be shifted by up to +-W hours.
As in the paper's code (simulate.py / BidirectionalStrategy) the job arrives
at 01:00 - W and may start at any time up to 01:00 + W, so

    submit   = day 01:00 - W
    deadline = day 01:00 + W + duration

W = 0 gives the unshifted baseline (the job runs at 01:00). Times are in the
data's own time (the Let's Wait Awhile CSVs do not name a zone; lowcarb reads
them as UTC).

Usage: make-nightly-workload.py --window-hours 8 [--year 2020] [--days 365]
       [--duration-minutes 30] [--power-w 1000] > nightly-8h.csv
"""
import argparse
import datetime as dt
import sys


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--window-hours", type=float, required=True)
    parser.add_argument("--year", type=int, default=2020)
    parser.add_argument("--days", type=int, default=365,
                        help="days from 1 January (the paper uses 365)")
    parser.add_argument("--duration-minutes", type=int, default=30)
    parser.add_argument("--power-w", type=float, default=1000.0)
    args = parser.parse_args()

    window = dt.timedelta(hours=args.window_hours)
    duration = dt.timedelta(minutes=args.duration_minutes)
    fmt = "%Y-%m-%dT%H:%M:%SZ"
    out = sys.stdout
    out.write("id,submit,duration,deadline,power_w,interruptible\n")
    first = dt.datetime(args.year, 1, 1, 1, 0, 0)
    for day in range(args.days):
        nominal = first + dt.timedelta(days=day)
        submit = nominal - window
        deadline = nominal + window + duration
        out.write(f"nightly-{day + 1},{submit.strftime(fmt)},"
                  f"{int(duration.total_seconds())},{deadline.strftime(fmt)},"
                  f"{args.power_w:g},false\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
