#!/usr/bin/python3
"""Saves a screenshot of a results page (docs/img/web_results.png) from a fresh server in
headless Chromium. Arguments after -- go to app.py.

Usage: build/venv/bin/python examples/web_search/screenshot.py [--query 0] [--out docs/img/web_results.png] [-- app args]
"""
import argparse
import sys
import time
from pathlib import Path

import browser

ROOT = Path(__file__).resolve().parents[2]


def main(argv=None):
    argv = list(sys.argv[1:] if argv is None else argv)
    app_args = argv[argv.index("--") + 1:] if "--" in argv else []
    argv = argv[:argv.index("--")] if "--" in argv else argv
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--query", type=int, default=0)
    parser.add_argument("--mode", default="e2lsh")
    parser.add_argument("--metric", default="euclidean")
    parser.add_argument("--width", type=int, default=1200)
    parser.add_argument("--out", default=str(ROOT / "docs" / "img" / "web_results.png"))
    args = parser.parse_args(argv)
    with browser.running_server(app_args) as url, \
            browser.chromium(args.width, 900) as driver:
        driver.get(f"{url}/search?query={args.query}&mode={args.mode}&metric={args.metric}&k=10")
        height = driver.execute_script("return document.documentElement.scrollHeight")
        driver.set_window_size(args.width, height + 120)
        time.sleep(0.5)
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        driver.save_screenshot(args.out)
        print(f"saved {args.out}")


if __name__ == "__main__":
    sys.exit(main())
