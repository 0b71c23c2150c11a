"""Python's cycle collector held off while a large document is laid out.

Laying out a proof pack makes about a million objects that all live until the PDF is written
(WeasyPrint's boxes, their computed styles, the lines of text). Each time enough of them have
been made the collector runs, finds nothing to free, and every third of its runs walks all
the objects of the process (the app, the libraries, the pack itself): with 100 sequences this
was 0.6 to 1 s of the 2.6 s the pack's ZIP took. Paused, the collector runs once the document
is done and frees in one go whatever cycles it left; reference counting still frees all the
rest at once, as always.

The collector is one per process: while two threads lay out documents at the same time it
stays paused until the last one is done, and a collector someone else turned off stays off.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

_lock = threading.Lock()
_holders = 0
_resume = False  # whether the first holder found the collector on


@contextmanager
def paused() -> Iterator[None]:
    """Hold the cycle collector off for the length of the block (see the module's docstring)."""
    global _holders, _resume
    with _lock:
        if _holders == 0:
            _resume = gc.isenabled()
            gc.disable()
        _holders += 1
    try:
        yield
    finally:
        with _lock:
            _holders -= 1
            if _holders == 0 and _resume:
                gc.enable()
