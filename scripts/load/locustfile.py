"""Locust users for ``make load`` (run by scripts/load/run.py; reads the plan from LOAD_PLAN).

LOAD_MODE=mixed (default): each simulated person is a sampled manager or supervisor with a signed-in
session who reads their pages with 1–3 s of think time. LOAD_MODE=saturate with LOAD_TARGET=<name>:
everyone requests that one page with no pause (the page's saturation throughput).
"""

import json
import os
import random

from locust import HttpUser, between, constant, task

PLAN = json.loads(open(os.environ["LOAD_PLAN"]).read())  # noqa: SIM115 - read once at import
MODE = os.environ.get("LOAD_MODE", "mixed")
TARGET = os.environ.get("LOAD_TARGET", "")

# How often a person opens each page, relative to the others.
WEIGHTS = {
    "profile (own)": 4,
    "team view": 3,
    "profile (member)": 2,
    "people list": 1,
    "home": 1,
    "api assessments": 2,
    "api people": 2,
}


class Person(HttpUser):
    wait_time = between(1, 3) if MODE == "mixed" else constant(0)

    def on_start(self):
        candidates = PLAN["users"]
        if MODE == "saturate":
            candidates = [u for u in candidates if TARGET in u["urls"]]
        self.person = random.choice(candidates)
        # Set by hand, not by a response: the cookie jar would keep a Secure cookie off plain HTTP.
        self.client.cookies.set("sessionid", self.person["session"])
        urls = self.person["urls"]
        if MODE == "saturate":
            self.choices, self.weights = [TARGET], [1]
        else:
            self.choices = list(urls)
            self.weights = [WEIGHTS.get(name, 1) for name in self.choices]

    @task
    def read(self):
        name = random.choices(self.choices, self.weights)[0]
        headers = {"Accept": "application/json"} if name.startswith("api") else {}
        with self.client.get(
            self.person["urls"][name],
            name=name,
            headers=headers,
            allow_redirects=False,
            catch_response=True,
        ) as response:
            if response.status_code != 200:
                response.failure(f"HTTP {response.status_code}")
