"""The evaluation engine's computations in lifelines, on the follow-ups `roadback-bench survival`
wrote: Kaplan-Meier and the log-rank test by country, Aalen-Johansen for each of five outcomes by
country. Prints the best of three times (one run of the cumulative incidence over 100,000
people), in milliseconds, as JSON."""
import json
import sys
import time
import warnings

import pandas as pd
from lifelines import AalenJohansenFitter, KaplanMeierFitter
from lifelines.statistics import multivariate_logrank_test

warnings.filterwarnings("ignore")
data = pd.read_csv(sys.argv[1], keep_default_na=False, dtype={"cause": str})
data["event"] = (data.cause == "0").astype(int)
data["code"] = data.cause.map(lambda c: int(c) + 1 if c != "" else 0)
groups = [g for _, g in data.groupby("country")]


def best(f, runs=3):
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        f()
        times.append(time.perf_counter() - started)
    return 1e3 * min(times)


def kaplan_meier():
    for g in groups:
        KaplanMeierFitter().fit(g.days, event_observed=g.event)


def log_rank():
    multivariate_logrank_test(data.days, data.country, data.event)


def cumulative_incidence():
    for g in groups:
        for cause in range(1, 6):
            AalenJohansenFitter(calculate_variance=True).fit(g.days, g.code, event_of_interest=cause)


print(json.dumps({
    "people": len(data),
    "kaplan_meier_ms": best(kaplan_meier),
    "log_rank_ms": best(log_rank),
    # Over 100,000 people lifelines takes minutes here: one run.
    "cumulative_incidence_ms": best(cumulative_incidence, 3 if len(data) <= 100_000 else 1),
}))
