"""The job protocol's constants, read from ``protocol.json``.

``protocol.json`` is written by the package build (``@da3js/blender-bridge``'s
``addonContract()``) from ``@da3js/core/protocol`` — the same zod schemas ``da3 backend``,
apps/gpu-worker and the edge API validate with — so the add-on's states, stages, enums and limits
cannot drift from the services'.
"""

import json
import pkgutil

_DATA = json.loads(pkgutil.get_data(__package__, "protocol.json").decode("utf-8"))

#: The protocol version (the ``/v1`` prefix).
PROTOCOL_VERSION = int(_DATA["protocolVersion"])
#: Every job state, and the terminal ones.
JOB_STATES = tuple(_DATA["jobStates"])
TERMINAL_STATES = frozenset(_DATA["terminalStates"])
#: The stages of a job, in order.
JOB_STAGES = tuple(_DATA["jobStages"])
#: Allowed values of ``options.processResMethod`` and ``options.refViewStrategy``.
RESIZE_METHODS = tuple(_DATA["resizeMethods"])
REF_VIEW_STRATEGIES = tuple(_DATA["refViewStrategies"])
#: ``options.processRes`` bounds (pixels) and the reference's default.
PROCESS_RES_MIN = int(_DATA["processRes"]["min"])
PROCESS_RES_MAX = int(_DATA["processRes"]["max"])
PROCESS_RES_DEFAULT = int(_DATA["processRes"]["default"])
#: Most inputs of one job.
MAX_INPUTS = int(_DATA["maxInputs"])
#: Keys ``options`` and ``exportOptions`` may hold.
OPTION_KEYS = frozenset(_DATA["optionKeys"])
EXPORT_OPTION_KEYS = frozenset(_DATA["exportOptionKeys"])
#: Export formats the services know.
FORMATS = tuple(_DATA["formats"])
#: Routes, relative to the service's base URL.
ENDPOINTS = dict(_DATA["endpoints"])
