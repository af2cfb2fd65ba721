"""One reconstruction, run in a background thread: inputs → service → job → downloaded files.

The thread only talks HTTP and writes files; it never touches ``bpy``. The main thread (a
Blender timer or a modal operator's timer events) reads :meth:`ReconstructJob.snapshot` to show
progress and imports the files once ``state == "downloaded"``.

Local states (not the protocol's): ``preparing`` → ``uploading`` (inputs read / uploaded) →
``waiting`` (the service's ``queued`` / ``running``) → ``downloading`` → ``downloaded``; or
``failed`` (``error`` holds the :class:`~da3_blender.errors.Da3Error`) or ``canceled``.
"""

import json
import os
import threading
import time

from ..errors import Da3Error, as_da3_error
from . import protocol

#: Local states after which the thread has ended.
FINAL_STATES = frozenset(("downloaded", "failed", "canceled"))

#: Consecutive failed status polls tolerated before the job is given up (network hiccups).
MAX_POLL_FAILURES = 5


class _Canceled(Exception):
    """Raised inside the thread when the user cancelled."""
    pass


class ReconstructJob:
    """Runs ``items`` (:class:`~da3_blender.remote.protocol.InputFile`) with ``options``
    (:class:`~da3_blender.remote.protocol.ReconstructOptions`) on ``service`` and downloads the
    result files into ``out_dir`` (plus ``job.json``, the final job). With ``wait_ready`` the
    thread first waits (up to ``ready_timeout`` seconds) for ``/readyz`` — ``da3 backend`` answers
    503 ``LOADING`` while its model loads."""

    def __init__(self, service, items, options, out_dir, poll_interval=0.5, metadata=None, wait_ready=False, ready_timeout=900.0):
        """Checks the inputs and options (on the calling thread) and prepares the thread."""
        protocol.check_inputs(items)
        options.to_json()  # bad options fail now, on the main thread
        self.service = service
        self.items = list(items)
        self.options = options
        self.out_dir = out_dir
        self.poll_interval = poll_interval
        self.metadata = metadata or {"client": "da3-blender"}
        self.wait_ready = wait_ready
        self.ready_timeout = ready_timeout
        self._lock = threading.Lock()
        self._cancel = threading.Event()
        self._state = "preparing"
        self._message = "preparing %d input%s" % (len(self.items), "" if len(self.items) == 1 else "s")
        self._fraction = 0.0
        self.job_id = None
        self.error = None
        self.result = None
        self.paths = []
        self.started_at = time.time()
        self._thread = threading.Thread(target=self._run, name="da3-reconstruct", daemon=True)

    # -- main thread -------------------------------------------------------------------------

    def start(self):
        """Starts the background thread; returns ``self``."""
        self._thread.start()
        return self

    def cancel(self):
        """Asks the job to stop: before submitting nothing is sent; after, ``DELETE /v1/jobs/:id``.
        Nothing is imported once cancel was asked for, even if the service already finished."""
        self._cancel.set()

    @property
    def cancel_requested(self):
        """True once :meth:`cancel` was called."""
        return self._cancel.is_set()

    def snapshot(self):
        """``{state, message, fraction, job_id}`` — safe to call from any thread."""
        with self._lock:
            return {"state": self._state, "message": self._message, "fraction": self._fraction, "job_id": self.job_id}

    @property
    def finished(self):
        """True once the thread has ended (``downloaded``, ``failed`` or ``canceled``)."""
        return self.snapshot()["state"] in FINAL_STATES

    def join(self, timeout=None):
        """Waits for the thread (``timeout`` seconds at most)."""
        self._thread.join(timeout)

    # -- background thread -------------------------------------------------------------------

    def _set(self, state=None, message=None, fraction=None):
        """Updates state, message and overall fraction (0–1) under the lock."""
        with self._lock:
            if state is not None:
                self._state = state
            if message is not None:
                self._message = message
            if fraction is not None:
                self._fraction = max(0.0, min(1.0, fraction))

    def _check_cancel(self):
        """Raises :class:`_Canceled` once cancel was asked for."""
        if self._cancel.is_set():
            raise _Canceled()

    def _run(self):
        """The thread: does the work and records how it ended."""
        try:
            self._work()
            self._set("downloaded", "done: %d file%s" % (len(self.paths), "" if len(self.paths) == 1 else "s"), 1.0)
        except _Canceled:
            self._cancel_remote()
            self._set("canceled", "canceled")
        except Exception as e:  # every failure becomes a typed error shown as a report
            self.error = as_da3_error(e, "reconstruct")
            self._set("failed", self.error.report_text())

    def _cancel_remote(self):
        """Best-effort ``DELETE`` of the submitted job."""
        if self.job_id is None:
            return
        try:
            self.result = self.service.cancel(self.job_id)
        except Da3Error:
            pass  # the job may be gone already; locally it is canceled either way

    def _wait_ready(self):
        """Polls ``/readyz`` until the model is loaded (or cancel / timeout)."""
        deadline = time.time() + self.ready_timeout
        while not self.service.ready():
            self._set("preparing", "waiting for the model to load at %s" % self.service.base_url)
            if time.time() > deadline:
                raise Da3Error("TIMEOUT", "the service at %s did not load its model within %.0f s" % (self.service.base_url, self.ready_timeout))
            if self._cancel.wait(0.5):
                raise _Canceled()

    def _work(self):
        """Uploads or inlines the inputs, submits, polls, downloads, writes job.json."""
        if self.wait_ready:
            self._wait_ready()
        n = len(self.items)
        self._set("uploading", "sending %d input%s" % (n, "" if n == 1 else "s"), 0.0)
        inputs = self.service.prepare_inputs(
            self.items,
            on_progress=lambda i, total: self._set(message="sent %d/%d inputs" % (i, total), fraction=0.05 * i / total),
            check_cancel=self._check_cancel,
        )
        self._check_cancel()
        status = self.service.submit(protocol.build_job_request(inputs, self.options, self.metadata))
        self.job_id = status.id
        failures = 0
        while not status.terminal:
            self._set("waiting", "%s (%s)" % (status.progress_text(), status.state), 0.05 + 0.85 * status.fraction)
            if self._cancel.wait(self.poll_interval):
                raise _Canceled()
            try:
                status = self.service.status(self.job_id)
                failures = 0
            except Da3Error as e:
                failures += 1
                if failures >= MAX_POLL_FAILURES or e.code not in ("UNREACHABLE", "TIMEOUT", "HTTP_502", "HTTP_503", "HTTP_504"):
                    raise
        self.result = status
        self._check_cancel()
        if status.state == "failed":
            raise Da3Error(status.error_code or "JOB_FAILED", "the job failed: %s" % (status.error_message or "no reason given"), job_code=status.error_code)
        if status.state == "canceled":
            raise Da3Error("CANCELED", "the job was canceled on the service")
        os.makedirs(self.out_dir, exist_ok=True)
        total = sum(f.size for f in status.files) or 1
        done = 0
        for f in status.files:
            self._set("downloading", "downloading %s" % f.name, 0.9 + 0.1 * done / total)

            def progress(got, base=done):
                """Download progress callback: overall fraction, and stop when cancelled."""
                self._set(fraction=0.9 + 0.1 * (base + got) / total)
                self._check_cancel()

            self.paths.append(self.service.download(self.job_id, f, self.out_dir, progress))
            done += f.size
        with open(os.path.join(self.out_dir, "job.json"), "w", encoding="utf-8") as out:
            json.dump(
                {"id": status.id, "state": status.state, "service": self.service.kind, "result": {"views": status.views, "width": status.width, "height": status.height, "isMetric": status.is_metric, "files": [f.name for f in status.files]}},
                out,
                indent=2,
            )
