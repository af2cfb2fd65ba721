"""``da3 backend`` on this machine: where its token lives, the command that starts it, and
starting / stopping it from Blender.

``da3 backend`` (``@da3js/node``) keeps its state in ``$DA3_CACHE/backend`` (default
``~/.cache/da3js/backend``) and, when no ``--token`` is given, writes a generated token into
``<state dir>/token`` (mode 600). It prints ``… listening on http://127.0.0.1:<port> …`` on stderr
once the port is open; ``/readyz`` answers 503 ``LOADING`` until the model is loaded.
"""

import atexit
import os
import re
import shlex
import shutil
import subprocess
import threading
import time

from ..errors import Da3Error

#: The model ``da3 backend`` loads when none is chosen.
DEFAULT_MODEL = "depth-anything/DA3-SMALL"
#: Its default port.
DEFAULT_PORT = 8008

_LISTENING = re.compile(r"listening on (http://\S+)")


def default_state_dir():
    """``$DA3_CACHE/backend``, else ``~/.cache/da3js/backend`` (what ``da3 backend`` uses)."""
    cache = os.environ.get("DA3_CACHE") or os.path.join(os.path.expanduser("~"), ".cache", "da3js")
    return os.path.join(cache, "backend")


def read_token(state_dir=None):
    """The token ``da3 backend`` generated into ``<state dir>/token``, or ``None``."""
    path = os.path.join(state_dir or default_state_dir(), "token")
    try:
        with open(path, "r", encoding="utf-8") as f:
            token = f.read().strip()
        return token if len(token) >= 16 else None
    except OSError:
        return None


def find_command(preference=""):
    """The command that runs ``da3`` as an argument list: the add-on preference (a command line,
    e.g. ``node /path/to/bin.js``) when set, else ``da3`` on ``PATH``, else ``None``."""
    if preference and preference.strip():
        return shlex.split(preference)
    found = shutil.which("da3")
    return [found] if found else None


def backend_args(command, model, port, state_dir, host="127.0.0.1"):
    """The full argument list of ``da3 backend``."""
    return list(command) + ["backend", "--model-dir", model, "--port", str(int(port)), "--host", host, "--state-dir", state_dir]


def suggested_command(model=DEFAULT_MODEL, port=DEFAULT_PORT):
    """The shell command to show when ``da3`` is not installed."""
    return "npx -p @da3js/node da3 backend --model-dir %s --port %d" % (shlex.quote(model), int(port))


class LocalBackend:
    """A ``da3 backend`` process started by the add-on (stopped when Blender quits)."""

    def __init__(self):
        """No process yet."""
        self.process = None
        self.url = None
        self.state_dir = None
        self.log = []
        self._listening = threading.Event()

    @property
    def running(self):
        """True while the process is alive."""
        return self.process is not None and self.process.poll() is None

    def start(self, command, model, port, state_dir=None, timeout=120.0):
        """Starts the backend and waits until its port is open (not until the model is loaded:
        poll :meth:`~da3_blender.remote.service.JobService.ready`). Returns ``(url, token)``.
        Raises ``Da3Error`` ``BACKEND_START`` when it exits or does not open its port in time."""
        if self.running:
            return self.url, read_token(self.state_dir)
        self.state_dir = state_dir or default_state_dir()
        os.makedirs(self.state_dir, exist_ok=True)
        args = backend_args(command, model, port, self.state_dir)
        env = dict(os.environ)
        env.pop("DA3_TOKEN", None)  # the token is the state folder's, which the add-on can read
        self._listening.clear()
        self.log = []
        try:
            self.process = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
        except OSError as e:
            raise Da3Error("BACKEND_START", "cannot run %s (%s)" % (shlex.join(args[:1]), e.strerror or e)) from None
        threading.Thread(target=self._read_stderr, name="da3-backend-log", daemon=True).start()
        atexit.register(self.stop)  # quitting Blender stops the backend it started
        deadline = time.time() + timeout
        while not self._listening.wait(0.1):
            if self.process.poll() is not None or time.time() > deadline:
                code = self.process.poll()
                self.stop()
                tail = " ".join(self.log[-3:]).strip()
                raise Da3Error("BACKEND_START", "da3 backend %s%s" % ("exited with code %s" % code if code is not None else "did not open its port in time", (": " + tail) if tail else ""))
        token = read_token(self.state_dir)
        if token is None:
            raise Da3Error("BACKEND_START", "da3 backend started but wrote no token into %s" % self.state_dir)
        return self.url, token

    def _read_stderr(self):
        """Reads the backend's stderr: keeps the last lines, finds the listening URL."""
        for raw in iter(self.process.stderr.readline, b""):
            line = raw.decode("utf-8", "replace").rstrip()
            self.log = (self.log + [line])[-50:]
            m = _LISTENING.search(line)
            if m and not self._listening.is_set():
                self.url = m.group(1)
                self._listening.set()

    def stop(self, timeout=10.0):
        """Stops the process (SIGTERM: the running job finishes; then SIGKILL after ``timeout``)."""
        p = self.process
        if p is None:
            return
        if p.poll() is None:
            p.terminate()
            try:
                p.wait(timeout)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        self.process = None
        self.url = None
