"""A rehearsal worker process: plays the cells its parent sends, one by one, and answers.

`python -m rehearsal.worker` is started by `rehearsal.matrix` with the Prefect API and
Prefect's logging settings in its environment (an explicit env dict), so Prefect reads them
when it is first imported here, in every thread of this process, with nothing written to
`os.environ`. Messages travel as length-prefixed pickles: the parent sends `(cell, template,
options)` or None (stop) on stdin; the worker answers `("say", text)` for each line of the
cell's story and then `("result", CellResult)` or `("error", traceback)`, on what was its
stdout. Anything else printed goes to stderr, so it cannot break the stream.
"""

from __future__ import annotations

import os
import pickle
import struct
import sys
import traceback
from typing import IO, Any

_HEADER = struct.Struct("!I")


def send(stream: IO[bytes], message: Any) -> None:
    """Write one message."""
    data = pickle.dumps(message)
    stream.write(_HEADER.pack(len(data)) + data)
    stream.flush()


def receive(stream: IO[bytes]) -> Any:
    """Read one message; EOFError when the other side is gone."""
    header = stream.read(_HEADER.size)
    if len(header) < _HEADER.size:
        raise EOFError("the other side closed the stream")
    (size,) = _HEADER.unpack(header)
    data = stream.read(size)
    if len(data) < size:
        raise EOFError("the other side closed the stream mid-message")
    return pickle.loads(data)


def main() -> None:
    """Serve cells until the parent says stop or goes away; drain Prefect's senders at the end."""
    answers = os.fdopen(os.dup(sys.stdout.fileno()), "wb")
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())  # stray prints go to stderr
    requests = sys.stdin.buffer

    import prefect  # noqa: F401  (configures its logging, which the next line quiets)

    import faults
    from foundation.console import quiet_console
    from rehearsal.play import rehearse
    from testing.prefect_server import drain_senders

    faults.install()
    quiet_console()
    try:
        while True:
            try:
                task = receive(requests)
            except EOFError:
                return
            if task is None:
                return
            cell, template, options = task
            try:
                result = rehearse(cell, template, options, lambda m: send(answers, ("say", m)))
            except BaseException:  # reported to the parent, which raises it
                send(answers, ("error", traceback.format_exc()))
            else:
                send(answers, ("result", result))
    finally:
        drain_senders()


if __name__ == "__main__":
    main()
