"""How fast the benchmark's aiosmtpd sink can take mail at all: a floor under any agent's send time.

    .venv/bin/python -m bench.sink_capacity [--mails 3000]

The sink runs in this process, as in ``bench.run``; a client in a child process sends ready-made
small mails over 1, 2 and 4 connections, so neither side shares a Python interpreter with the other.
The resulting mails/s bound every backlog figure: N acknowledgements need at least N / rate seconds.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import subprocess
import sys
import time
from typing import Any

import aiosmtplib

from inbox_agent.sandbox import SmtpSink

CONNECTIONS = (1, 2, 4)
_BODY = ("From: info@bench-shop.test\r\nTo: klant@example.org\r\nSubject: [KT-2026-000001] Ontvangen\r\n"
         "Message-ID: <sink-capacity@bench-shop.test>\r\n\r\n" + "Wij hebben uw verzoek ontvangen.\r\n" * 40)


async def _send(port: int, mails: int, connections: int) -> float:
    left = list(range(mails))

    async def one_connection() -> None:
        client = aiosmtplib.SMTP(hostname="127.0.0.1", port=port)
        await client.connect()
        while left:
            left.pop()
            await client.sendmail("info@bench-shop.test", ["klant@example.org"], _BODY.encode())
        await client.quit()

    started = time.perf_counter()
    await asyncio.gather(*(one_connection() for _ in range(connections)))
    return time.perf_counter() - started


def measure(mails: int = 3000) -> dict[str, Any]:
    """Mails/s the sink accepted per number of client connections."""
    rates: dict[str, float] = {}
    with SmtpSink() as sink:
        for connections in CONNECTIONS:
            out = subprocess.run([sys.executable, "-m", "bench.sink_capacity", "--client", str(sink.port),
                                  "--mails", str(mails), "--connections", str(connections)],
                                 capture_output=True, text=True, check=True).stdout
            rates[str(connections)] = round(mails / float(json.loads(out)["seconds"]), 0)
    return {"mails": mails, "mails_per_s_by_connections": rates}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.sink_capacity", description=__doc__.split("\n\n")[0])
    parser.add_argument("--mails", type=int, default=3000)
    parser.add_argument("--client", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--connections", type=int, default=1, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.client is not None:
        print(json.dumps({"seconds": asyncio.run(_send(args.client, args.mails, args.connections))}))
    else:
        print(json.dumps(measure(args.mails)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
