"""One error type for everything the add-on reports to the user.

Every foreseeable failure (a corrupt file, a stopped backend, an HTTP error with a
``{"error": {"code", "message"}}`` body, a cancelled job) is raised as :class:`Da3Error` with a
stable ``code``; operators turn it into a Blender report (``[CODE] message``), never a traceback.
Codes of the job protocol (``UNAUTHORIZED``, ``QUEUE_FULL``, ``LOADING``, ``BAD_REQUEST``, …) are
passed through from the service unchanged; the add-on adds its own:

- ``BAD_FILE``: a file that cannot be read (truncated, not the format its name says, bad values)
- ``UNSUPPORTED``: a valid file the add-on cannot import (e.g. sparse glTF accessors)
- ``NO_INPUT``: nothing to reconstruct (no images chosen, empty folder)
- ``UNREACHABLE``: no answer from the service (connection refused, DNS, TLS)
- ``TIMEOUT``: the service stopped answering
- ``BAD_RESPONSE``: an answer that does not follow the job protocol
- ``CORRUPT_DOWNLOAD``: a result file whose size or sha256 differs from the job's manifest
- ``CANCELED``: the user cancelled
- ``JOB_FAILED``: the job ended ``failed`` (the job's own code is kept in ``job_code``)
"""


class Da3Error(Exception):
    """A typed, user-facing failure: ``code`` (stable, upper-case) and a one-line ``message``.

    ``status`` is the HTTP status when the error came from a service (else ``None``).
    """

    def __init__(self, code, message, status=None, job_code=None):
        """A failure ``code`` with ``message`` (and the HTTP ``status`` / the failed job's code)."""
        super().__init__(message)
        self.code = str(code)
        self.message = str(message)
        self.status = status
        self.job_code = job_code

    def report_text(self):
        """The text of the Blender report: ``[CODE] message``."""
        return "[%s] %s" % (self.code, self.message)

    def __str__(self):
        """The report text."""
        return self.report_text()


def as_da3_error(error, where):
    """``error`` as a :class:`Da3Error` (unexpected exceptions become ``INTERNAL`` with their text)."""
    if isinstance(error, Da3Error):
        return error
    return Da3Error("INTERNAL", "%s: %s: %s" % (where, type(error).__name__, error))
