"""Peak memory of an access export as the order history grows: prints figures, asserts nothing.

Orders come from a generator, as they do from WooCommerceClient, so a flat peak across 2,000 and
20,000 orders shows the package streams instead of holding the history in memory.

    .venv/bin/python bench/bench_export.py [--orders 2000 20000]
"""

from __future__ import annotations

import argparse
import resource
import tempfile
import time
import tracemalloc
from pathlib import Path

from inbox_agent.connectors.woocommerce import Customer, Order
from inbox_agent.exports import ExportOptions, SubjectData, build_export
from inbox_agent.fictitious_shop import fictitious_shop
from inbox_agent.sandbox_shop import customer_json, order_json

EMAIL = "jan@example.nl"


def measure(count: int, folder: Path) -> None:
    orders = (Order.model_validate(order_json(n, 7, EMAIL, items=3)) for n in range(1, count + 1))
    subject = SubjectData(email=EMAIL, customer=Customer.model_validate(customer_json(7, EMAIL)), orders=orders)
    tracemalloc.start()
    started = time.perf_counter()
    result = build_export(subject, folder / f"export-{count}.zip", fictitious_shop(),
                          ExportOptions(max_bytes=2**31))
    elapsed = time.perf_counter() - started
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    print(f"{count:>7} orders ({result.counts['order_items']} lines): zip {result.size_bytes / 1e6:6.2f} MB, "
          f"peak traced Python memory {peak / 1e6:5.2f} MB, {elapsed:5.2f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, nargs="+", default=[2_000, 20_000])
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        for count in args.orders:
            measure(count, Path(tmp))
    print(f"process peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.1f} MB")


if __name__ == "__main__":
    main()
