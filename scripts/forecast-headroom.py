#!/usr/bin/env python3
"""How much of the oracle's flexible-start savings forecasts that know part
of the future could capture: the headroom behind EVALUATION.md section 5.

Not a forecaster: the references below read future values on purpose, to
split what a forecast must know into the day's *shape* (the hourly pattern
around the day's mean) and the day's *level* (its mean, which in wind grids
follows the weather). Same scoring as `lowcarb forecast backtest`
(forecast/backtest.cc): hourly issue times from day 15 while issue + 96 h
fits; a job of L hours may start at any hour in [issue, issue + slack]; it
starts where the forecast's mean over the job is lowest; captured share =
sum of (actual at once - actual at the chosen start) / the same sum with a
perfect forecast.

References:
  shape-oracle   true shape of every future day + today's level by
                 persistence (mean of the last 24 h): what a perfect profile
                 method could reach without knowing the weather.
  level-oracle   true daily mean of every future day + the 21-day mean
                 profile of the past: what knowing the weather's level but
                 not the day's shape gives.

Usage: scripts/forecast-headroom.py FILE.csv [FILE.csv ...]
(Electricity Maps hourly exports, lifecycle column, as the backtest reads.)
"""
import csv
import math
import sys

JOB_HOURS = 3
SLACK_HOURS = 24
WARMUP_DAYS = 14
HORIZON = 96


def load(path):
    with open(path, newline="", encoding="utf-8") as f:
        rows = csv.reader(f)
        header = next(rows)
        column = next(i for i, name in enumerate(header) if "(LCA)" in name)
        values = []
        for row in rows:
            try:
                values.append(float(row[column]))
            except (ValueError, IndexError):
                values.append(math.nan)
    return values


def window_mean(series, start, length):
    part = series[start:start + length]
    if len(part) < length or any(math.isnan(v) for v in part):
        return math.nan
    return sum(part) / length


def daily_means(values):
    means = []
    for day in range(len(values) // 24):
        means.append(window_mean(values, day * 24, 24))
    return means


def captured(values, forecast_at):
    saved = oracle = 0.0
    first = (WARMUP_DAYS + 1) * 24
    for issue in range(first, len(values) - HORIZON):
        at_once = window_mean(values, issue, JOB_HOURS)
        if math.isnan(at_once):
            continue
        forecast = forecast_at(issue)
        best_actual = at_once
        chosen, chosen_value = 0, math.inf
        complete = True
        for s in range(SLACK_HOURS + 1):
            actual = window_mean(values, issue + s, JOB_HOURS)
            if math.isnan(actual):
                complete = False
                break
            best_actual = min(best_actual, actual)
            f = window_mean(forecast, s, JOB_HOURS)
            if not math.isnan(f) and f < chosen_value:
                chosen, chosen_value = s, f
        if not complete:
            continue
        saved += at_once - window_mean(values, issue + chosen, JOB_HOURS)
        oracle += at_once - best_actual
    return 100.0 * saved / oracle if oracle > 0 else math.nan


def main(paths):
    print("file | perfect | shape-oracle | level-oracle")
    for path in paths:
        values = load(path)
        days = daily_means(values)
        span = SLACK_HOURS + JOB_HOURS

        def shape_oracle(issue):
            level = window_mean(values, issue - 24, 24)
            out = []
            for h in range(span):
                t = issue + h
                out.append(values[t] - days[t // 24] + level)
            return out

        def level_oracle(issue):
            out = []
            for h in range(span):
                t = issue + h
                hour = t % 24
                past = [values[(issue // 24 - k) * 24 + hour] -
                        days[issue // 24 - k] for k in range(1, 22)
                        if not math.isnan(days[issue // 24 - k])]
                profile = sum(past) / len(past) if past else 0.0
                out.append(days[t // 24] + profile)
            return out

        def perfect(issue):
            return values[issue:issue + span]

        print(f"{path.rsplit('/', 1)[-1]} | {captured(values, perfect):.1f} | "
              f"{captured(values, shape_oracle):.1f} | "
              f"{captured(values, level_oracle):.1f}")


if __name__ == "__main__":
    main(sys.argv[1:])
