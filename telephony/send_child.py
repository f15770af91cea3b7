"""The child process of telephony.senders.ProcessSenders: sends what arrives on a pipe.

Started with multiprocessing's "spawn" (a fresh interpreter), so this module imports
nothing of Django's before `django.setup()`: the child unpickles its target by importing
this module first.
"""

import signal
import threading
from concurrent.futures import ThreadPoolExecutor
from functools import partial


def serve(pipe, threads):
    """Send each (key, claimed message) that arrives on `pipe` from one of `threads`
    threads, and answer (key, outcome) on it; stop at None or when the worker's end
    closes. The worker decides when it stops: SIGINT and SIGTERM are ignored here."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    import django

    django.setup()
    from telephony.senders import _send

    answering = threading.Lock()

    def answer(key, future):
        with answering:
            pipe.send((key, future.result()))  # _send returns the outcome, never raises

    with ThreadPoolExecutor(threads, thread_name_prefix="telephony-send") as pool:
        while True:
            try:
                item = pipe.recv()
            except (EOFError, OSError):
                break
            if item is None:
                break
            key, message = item
            pool.submit(_send, message).add_done_callback(partial(answer, key))
