"""Measuring and enforcing the limits of a worker: resident memory, and killing a tree.

Memory is the *resident* memory (RSS) of a worker and of every process it started, read by
the driver with psutil (Linux, macOS and Windows alike). An address-space limit
(``RLIMIT_AS``) would be simpler but wrong: threaded BLAS and LightGBM reserve address
space they never touch, and fail under it long before they use the memory.
"""

from __future__ import annotations

import psutil

# A share of the machine's memory for all workers together; the rest is the driver's
# (which holds the data too) and the system's.
WORKERS_MEMORY_SHARE = 0.75


def default_memory_limit(n_workers: int) -> float:
    """MB per worker: 75% of the machine's physical memory, shared by the workers."""
    total_mb = psutil.virtual_memory().total / 2**20
    return WORKERS_MEMORY_SHARE * total_mb / max(1, n_workers)


def resident_mb(pid: int, proportional: bool = False) -> float:
    """Resident memory of a process and all its descendants, in MB (0 if it is gone).

    ``proportional``: each page shared by n processes counts 1/n (PSS, Linux), so that the
    sum over processes forked from one another is not inflated by their shared pages;
    slower to read, so the limits use plain RSS.
    """
    try:
        root = psutil.Process(pid)
        processes = [root, *root.children(recursive=True)]
    except psutil.Error:
        return 0.0
    total = 0
    for process in processes:
        try:
            total += process.memory_full_info().pss if proportional else process.memory_info().rss
        except psutil.Error:  # ended while we looked
            continue
    return total / 2**20


def kill_tree(pid: int, include_root: bool = True) -> None:
    """SIGKILL (TerminateProcess on Windows) a process's descendants, then the process."""
    try:
        root = psutil.Process(pid)
        victims = root.children(recursive=True)
    except psutil.Error:
        return
    if include_root:
        victims.append(root)
    for process in victims:
        try:
            process.kill()
        except psutil.Error:
            continue
    psutil.wait_procs(victims, timeout=5)
