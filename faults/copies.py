"""Damaging a second copy on purpose: the held-back day's file cut mid-row, the good one kept.

The `damaged_copy` variant holds rows back as `held_back` does, and cuts the second copy of
that day (the event backup for engagement, the activity log for growth) in the middle of its
last row: the text stops mid-row and the gzip stays intact, the damage that once loaded a
garbage row. The good file is kept beside it (`<file>.undamaged`), so undoing the fault, or
a rehearsal's "a person restored a good copy", puts it back.
"""

from __future__ import annotations

import gzip

import fsspec

from faults.records import InjectedFault
from warehouse.calendar import Partition
from warehouse.db import Platform
from warehouse.logs_storage import day_path
from warehouse.pipelines import Pipeline, resolve

_KEPT = ".undamaged"


def copy_file(platform: Platform, pipe: Pipeline, part: Partition) -> str:
    """The second copy of the partition's last day (the day `held_back` holds rows from)."""
    config = platform.config
    if pipe.primary_table == "events":
        return day_path(config.event_backup(), part.end, ".csv.gz")
    return day_path(config.activity_logs(), part.end, ".jsonl.gz")


def damage_copy(platform: Platform, pipe: Pipeline, part: Partition) -> str:
    """Keep the good file aside and leave one whose text stops inside its last row."""
    path = copy_file(platform, pipe, part)
    fs, fpath = fsspec.core.url_to_fs(path)
    fs.copy(fpath, fpath + _KEPT)
    with fs.open(fpath, "rb") as fh:
        text = gzip.decompress(fh.read())
    last_row = text.rstrip(b"\n").rfind(b"\n") + 1
    cut = last_row + (len(text) - last_row) // 2
    fs.rm(fpath)  # a new file, never a write through a link another copy shares
    with fs.open(fpath, "wb") as fh:
        fh.write(gzip.compress(text[:cut]))
    return path


def restore_copy(platform: Platform, fault: InjectedFault) -> None:
    """Put the good file back, as a person restoring a good copy does (once; then a no-op)."""
    pipe, part = resolve(fault.pipeline, fault.partition, platform.config.fiscal_calendar)
    fs, fpath = fsspec.core.url_to_fs(copy_file(platform, pipe, part))
    if fs.exists(fpath + _KEPT):
        fs.mv(fpath + _KEPT, fpath)
