"""One BLAS thread for this process, asked of the OpenBLAS that numpy loaded.

Why: OpenBLAS starts a thread per core when numpy loads and spreads every matrix product over them. The second
opinion's products (``ensemble_net``) have tens of rows; spread over two cores they cost twice the CPU, in threads
spinning between products, for a little less wall time (measured on the dev corpus: 5.3 ms CPU and 2.7 ms wall a
mail, against 2.3 ms and 2.3 ms on one thread). The daemon has other work for the other core. The environment
variable ``OPENBLAS_NUM_THREADS`` does the same, but only if set before numpy loads, which a library cannot promise.
threadpoolctl does this in general; this module is the one call it would make here.
"""

from __future__ import annotations

import ctypes
from collections.abc import Iterator
from pathlib import Path

SETTERS = ("scipy_openblas_set_num_threads64_", "scipy_openblas_set_num_threads", "openblas_set_num_threads64_",
           "openblas_set_num_threads")
"""The name of OpenBLAS's setter, by build: numpy's wheels carry ``scipy_openblas`` with 64-bit integers."""


def openblas_libraries() -> Iterator[ctypes.CDLL]:
    """Every OpenBLAS loaded in this process (none on a system without ``/proc`` or with another BLAS)."""
    try:
        maps = Path("/proc/self/maps").read_text(encoding="utf-8")
    except OSError:
        return
    paths = {line.split()[-1] for line in maps.splitlines() if "openblas" in line.rsplit("/", 1)[-1].lower()}
    for path in sorted(paths):
        yield ctypes.CDLL(path)


def use_one_blas_thread() -> bool:
    """Set every loaded OpenBLAS to one thread; False when there was none to set."""
    done = False
    for library in openblas_libraries():
        setter = next((getattr(library, name) for name in SETTERS if hasattr(library, name)), None)
        if setter is not None:
            setter(1)
            done = True
    return done
