"""The web page as staff open it: seconds from asking for a page to having all of it, over real HTTP from a running daemon.

The daemon runs with the demo's config (the shipped example: 10 categories, 8 departments) on the stub's
office scenario, its page served by waitress as on a device; the bench logs in and asks for each page
``--times`` times after one warm-up, printing the median and the slowest. ``--pi`` runs the whole bench (daemon,
page and stub) under the Pi-class CPU proxy (bench/piproxy.py; root).

    .venv/bin/python bench/pages.py [--times 5] [--pi]
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.piproxy import PiProxy  # noqa: E402
from speakerd.cli.demo import prepare  # noqa: E402
from speakerd.daemon.wiring import Daemon  # noqa: E402
from speakerd.stub import StubServer  # noqa: E402
from speakerd.stub.scenarios import office  # noqa: E402

PAGES = ("/", "/board", "/settings", "/reports", "/setup/platform")


def logged_in(base: str, password: str) -> requests.Session:
    session = requests.Session()
    form = session.get(base + "login", timeout=60).text
    token = re.search(r'name="csrf_token" value="([^"]+)"', form).group(1)
    session.post(base + "login", data={"password": password, "csrf_token": token}, timeout=60).raise_for_status()
    return session


def measure(times: int) -> None:
    with tempfile.TemporaryDirectory() as tmp, StubServer(office(200, seed=3)) as stub:
        setup = prepare(Path(tmp), stub.url)
        daemon = Daemon(setup.config_path)
        daemon.start()
        try:
            session = logged_in(setup.web_url, setup.password)
            for page in PAGES:
                session.get(setup.web_url.rstrip("/") + page, timeout=120)  # warm: templates compiled, the first query's pages read
                took = []
                for _ in range(times):
                    started = time.monotonic()
                    answer = session.get(setup.web_url.rstrip("/") + page, timeout=120)
                    took.append(time.monotonic() - started)
                    answer.raise_for_status()
                print(f"  {page:16s} {len(answer.content) // 1024:4d} KiB: median {statistics.median(took):.3f} s, slowest {max(took):.3f} s")
        finally:
            daemon.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--times", type=int, default=5)
    parser.add_argument("--pi", action="store_true", help="the whole bench under the Pi-class CPU proxy (a cgroup quota; root)")
    args = parser.parse_args()
    if args.pi:
        with PiProxy() as proxy:
            (proxy.path / "cgroup.procs").write_text(str(os.getpid()))
            print(f"Pi proxy: {proxy.describe()}")
            measure(args.times)
    else:
        measure(args.times)


if __name__ == "__main__":
    main()
