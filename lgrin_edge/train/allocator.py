"""Keep freed memory in the process during training, so each step reuses pages instead of faulting new ones.

A training step frees and allocates the same few hundred tensors every time. glibc's malloc serves the
larger ones (over its mmap threshold, 128 KiB to 32 MiB) with fresh mappings, returns them on free, and
trims the top of its heap, so every step faults those pages in again: about 1,700 page faults per
JapaneseVowels step (batch 32), 15-25% of its time on the machine of docs/training-speed.md. Raising the
mmap and trim thresholds keeps the memory in the heap for reuse; the process then holds its peak heap
until it exits, which is what a training process needs anyway. Other C libraries are left alone.
"""

from __future__ import annotations

import ctypes
import platform

# mallopt parameter numbers (glibc's malloc.h)
_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3
# Allocations up to this size come from the heap, and this much free heap is kept (glibc's cap for the
# mmap threshold on 64-bit systems is larger; 1 GiB covers every tensor of the paper's configurations).
RETAIN_BYTES = 1 << 30

_done: dict[str, bool] = {}


def retain_freed_memory() -> bool:
    """Raise glibc's mmap and trim thresholds once per process; False where the C library is not glibc."""
    if "result" in _done:
        return _done["result"]
    ok = False
    if platform.system() == "Linux" and platform.libc_ver()[0] == "glibc":
        try:
            mallopt = ctypes.CDLL(None).mallopt
            mallopt.argtypes, mallopt.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
            ok = all(mallopt(param, RETAIN_BYTES) for param in (_M_MMAP_THRESHOLD, _M_TRIM_THRESHOLD))
        except (OSError, AttributeError):
            ok = False
    _done["result"] = ok
    return ok
