"""Concurrent keep-alive clients for the load benchmarks, on 127.0.0.1 only.

Each client is its own process (forked) with one reused connection, sending its
plan's paths in a cycle until told to stop. A plan may carry a check that reads
each answer and says which index answered it and whether the answer is wholly
from that index (used by the rebuild runs).
"""

from __future__ import annotations

import multiprocessing
import time
from collections.abc import Callable
from dataclasses import dataclass
from multiprocessing.queues import Queue
from multiprocessing.synchronize import Event

from .common import Client, Server, load_queries, search_path

MAX_SECONDS = 900

# answer body -> (the index that answered, None if the answer does not tell; the answer is wholly from it)
Check = Callable[[bytes], tuple[str | None, bool]]


@dataclass(frozen=True)
class Sample:
    at: float  # wall-clock time the request was sent
    seconds: float
    ok: bool
    served: str | None = None  # which index answered (checked plans only)
    consistent: bool = True  # the answer is wholly from that index

    @property
    def done(self) -> float:
        return self.at + self.seconds


@dataclass(frozen=True)
class Plan:
    """What one client sends: `paths` in a cycle from `offset`; `check` judges each 200 answer."""

    paths: list[str]
    offset: int = 0
    check: Check | None = None


def spread(paths: list[str], clients: int, check: Check | None = None) -> list[Plan]:
    """`clients` plans over the same paths, each starting elsewhere in the cycle."""
    return [Plan(paths, i * len(paths) // clients, check) for i in range(clients)]


def client_loop(port: int, plan: Plan, stop: Event, results: Queue) -> None:
    """Send the plan's paths until `stop` is set (or MAX_SECONDS), then put the samples on `results`."""
    client = Client(port)
    samples = []
    number = plan.offset
    give_up = time.time() + MAX_SECONDS
    while not stop.is_set() and time.time() < give_up:
        sent = time.time()
        status, body, seconds = client.get(plan.paths[number % len(plan.paths)])
        number += 1
        if plan.check is None or status != 200:
            samples.append(Sample(sent, seconds, status == 200, consistent=status == 200))
            continue
        served, consistent = plan.check(body)
        samples.append(Sample(sent, seconds, True, served, consistent))
    client.close()
    results.put(samples)


def drive(port: int, plans: list[Plan], seconds: float, during: Callable[[], None] | None = None) -> list[Sample]:
    """Run one client process per plan until `during()` returns (default: for `seconds`)."""
    context = multiprocessing.get_context("fork")
    stop, results = context.Event(), context.Queue()
    processes = [context.Process(target=client_loop, args=(port, plan, stop, results)) for plan in plans]
    for process in processes:
        process.start()
    try:
        (during or (lambda: time.sleep(min(seconds, MAX_SECONDS))))()
    finally:
        stop.set()
        samples = [sample for _ in processes for sample in results.get(timeout=MAX_SECONDS)]
        for process in processes:
            process.join()
    return samples


def warm(server: Server, paths: list[str], count: int = 40) -> None:
    """A few requests over several connections, so every worker has opened its index."""
    for number in range(count):
        client = Client(server.port)
        client.get(paths[-1 - number % len(paths)])
        client.close()


def search_paths(corpus: str, pages: int = 1) -> list[str]:
    """The API paths of `corpus`'s query mix (measured and warm-up queries), pages 1 to `pages`."""
    queries = load_queries(corpus) + load_queries(corpus, "warmup")
    return [search_path("searchapp", q, page) for page in range(1, pages + 1) for q in queries]
