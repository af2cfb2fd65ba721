"""Reconstruct: photos → a job on a DA3 service → the result imported into the scene.

The job runs in a background thread (:class:`~da3_blender.remote.job.ReconstructJob`: uploads,
polling, downloads, standard library only). From the UI the operator is modal: a window-manager
timer polls the job on the main thread every 0.25 s, redraws the progress in the status bar, and
imports the downloaded files on the main thread when the job is done — Blender never blocks.
Called from a script (``bpy.ops.da3.reconstruct()``, e.g. in ``blender -b``), it waits for the
job instead. Every failure ends as a Blender report ``[CODE] message``.
"""

import os
import time
import uuid

import bpy

from ..errors import Da3Error
from ..remote import local_backend
from ..remote.http import is_loopback
from ..remote.job import ReconstructJob
from ..remote.protocol import InputFile, ReconstructOptions
from ..remote.service import EdgeService, JobService
from .build import BuildOptions
from .compat import online_access_allowed, preferences
from .ops_import import import_path

#: Image files a folder source picks up (what the services decode).
IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".webp", ".tif", ".tiff")

#: Jobs started and not yet finished (shown in the status bar and the panel).
ACTIVE_JOBS = []

#: The ``da3 backend`` the add-on started, if any.
BACKEND = local_backend.LocalBackend()


def gather_inputs(settings):
    """``(items, video_fps)`` for the panel's source: chosen images, a folder's images (sorted), or
    a movie clip (one video input sampled at ``clip fps / frame step``)."""
    if settings.source == "IMAGES":
        paths = [bpy.path.abspath(i.filepath) for i in settings.images if i.filepath]
        return [InputFile(p, os.path.basename(p)) for p in paths], None
    if settings.source == "FOLDER":
        folder = bpy.path.abspath(settings.folder)
        if not folder or not os.path.isdir(folder):
            raise Da3Error("NO_INPUT", "choose a folder of images (got %r)" % (settings.folder or ""))
        names = sorted(n for n in os.listdir(folder) if n.lower().endswith(IMAGE_EXTENSIONS))
        return [InputFile(os.path.join(folder, n), n) for n in names], None
    clip = settings.movie_clip
    if clip is None:
        raise Da3Error("NO_INPUT", "choose a movie clip")
    path = bpy.path.abspath(clip.filepath)
    if not os.path.isfile(path):
        raise Da3Error("NO_INPUT", "the clip's file %s is not on disk" % path)
    fps = float(clip.fps or 24) / max(1, settings.frame_step)
    return [InputFile(path, os.path.basename(path), "video")], fps


def reconstruct_options(settings, video_fps):
    """The job options from the panel's settings."""
    return ReconstructOptions(
        process_res=settings.process_res,
        process_res_method=settings.process_res_method,
        ref_view_strategy=settings.ref_view_strategy,
        use_ray_pose=settings.use_ray_pose,
        infer_gs=settings.infer_gs,
        video_fps=video_fps,
        max_frames=(settings.max_frames or None) if video_fps is not None else None,
    )


def local_url(prefs):
    """The local backend's URL: the preference, else the backend the add-on started, else the port."""
    if prefs.local_url:
        return prefs.local_url
    if BACKEND.running and BACKEND.url:
        return BACKEND.url
    return "http://127.0.0.1:%d" % prefs.local_port


def start_hint(prefs):
    """What to do when the local backend does not answer."""
    if local_backend.find_command(prefs.da3_command):
        return "start it with Start Backend in the DA3 panel"
    return "start it with: " + local_backend.suggested_command(prefs.local_model, prefs.local_port)


def make_service(settings, prefs):
    """The service for the panel's mode: ``da3 backend`` (local), the edge API or a GPU worker."""
    if settings.mode == "LOCAL":
        url = local_url(prefs)
        token = prefs.local_token or local_backend.read_token(BACKEND.state_dir if BACKEND.running else (prefs.state_dir or None))
        service = JobService(url, token)
        if not token:
            try:
                service.health()
            except Da3Error as e:
                if e.code == "UNREACHABLE":
                    raise Da3Error("UNREACHABLE", "no da3 backend at %s: %s" % (url, start_hint(prefs))) from None
                raise
            raise Da3Error("NO_TOKEN", "the backend at %s needs its token: set Backend Token in the add-on preferences (da3 backend writes it to <state folder>/token)" % url)
        return service
    if prefs.remote_kind == "EDGE":
        url, token, cls = prefs.edge_url, prefs.edge_api_key, EdgeService
    else:
        url, token, cls = prefs.worker_url, prefs.worker_token, JobService
    if not url:
        raise Da3Error("NO_SERVICE", "set the %s URL in the add-on preferences" % ("edge API" if cls is EdgeService else "GPU worker"))
    if not is_loopback(url) and not online_access_allowed():
        raise Da3Error("OFFLINE", "Blender's online access is off (Preferences > System > Network)")
    return cls(url, token)


def results_root(prefs):
    """Where job results are downloaded: the preference, else the add-on's user folder."""
    if prefs.results_dir:
        return bpy.path.abspath(prefs.results_dir)
    from .compat import ADDON

    try:
        return bpy.utils.extension_path_user(ADDON, path="results", create=True)
    except (AttributeError, ValueError):
        return os.path.join(bpy.utils.user_resource("DATAFILES", path="da3_blender", create=True), "results")


def start_job(context):
    """Builds the job from the scene's settings and starts it in the background; returns it.
    Raises :class:`~da3_blender.errors.Da3Error` when there is nothing to send or no service."""
    settings = context.scene.da3
    prefs = preferences(context)
    items, fps = gather_inputs(settings)
    options = reconstruct_options(settings, fps)
    service = make_service(settings, prefs)
    out_dir = os.path.join(results_root(prefs), "job-%s-%s" % (time.strftime("%Y%m%d-%H%M%S"), uuid.uuid4().hex[:6]))
    job = ReconstructJob(service, items, options, out_dir, wait_ready=service.kind != "edge")
    job.mode = settings.mode
    job.build_options = BuildOptions(depth_meshes=settings.depth_meshes, conf_percentile=settings.conf_percentile)
    ACTIVE_JOBS.append(job)
    settings.status = "Running: " + job.snapshot()["message"]
    settings.last_error_code = ""
    return job.start()


def finish_job(context, job):
    """Ends a finished job on the main thread: imports its files, or explains why not.
    Returns ``(report level, message, import summary or None)``."""
    if job in ACTIVE_JOBS:
        ACTIVE_JOBS.remove(job)
    settings = context.scene.da3
    snap = job.snapshot()
    if snap["state"] == "canceled" or job.cancel_requested:
        settings.status = "Canceled"
        settings.last_error_code = "CANCELED"
        return "WARNING", "DA3: reconstruction canceled", None
    if snap["state"] == "failed":
        err = job.error or Da3Error("INTERNAL", "the job failed")
        text = err.report_text()
        if err.code == "UNREACHABLE" and getattr(job, "mode", "") == "LOCAL":
            text += " — " + start_hint(preferences(context))
        settings.status = "Failed: " + text
        settings.last_error_code = err.code
        return "ERROR", "DA3: " + text, None
    try:
        summary, warnings = import_path(context, job.out_dir, job.build_options)
    except Da3Error as e:
        settings.status = "Failed: " + e.report_text()
        settings.last_error_code = e.code
        return "ERROR", "DA3: " + e.report_text(), None
    views = job.result.views if job.result else None
    settings.status = "Imported %s (%s views)" % (summary["root"], views)
    settings.last_result = job.out_dir
    message = "DA3: imported %s: %d cameras from %s" % (summary["root"], len(summary["cameras"]), job.out_dir)
    if warnings:
        message += " (" + "; ".join(warnings) + ")"
    return "INFO", message, summary


def wait_for(job, timeout=None):
    """Blocks until the job's thread ends (scripts and ``blender -b`` only; the UI never waits)."""
    deadline = None if timeout is None else time.time() + timeout
    while not job.finished:
        if deadline is not None and time.time() > deadline:
            job.cancel()
            deadline = None
        time.sleep(0.05)
    job.join()


def redraw(context):
    """Redraws the status bar, 3D views and properties editors (progress)."""
    wm = context.window_manager
    for window in wm.windows:
        for area in window.screen.areas:
            if area.type in ("STATUSBAR", "VIEW_3D", "PROPERTIES"):
                area.tag_redraw()


class DA3_OT_reconstruct(bpy.types.Operator):
    """Send the chosen photos to DA3 (local backend or remote) and import the reconstruction"""

    bl_idname = "da3.reconstruct"
    bl_label = "Reconstruct"
    bl_options = {"REGISTER", "UNDO"}

    _timer = None
    _job = None

    def _report(self, level, message):
        """Reports ``message`` at ``level``; FINISHED for INFO, else CANCELLED."""
        self.report({level}, message)
        return {"FINISHED"} if level == "INFO" else {"CANCELLED"}

    def execute(self, context):
        """Scripts and ``blender -b``: runs the job and waits for it."""
        try:
            job = start_job(context)
        except Da3Error as e:
            context.scene.da3.status = "Failed: " + e.report_text()
            context.scene.da3.last_error_code = e.code
            return self._report("ERROR", "DA3: " + e.report_text())
        wait_for(job)
        level, message, _ = finish_job(context, job)
        return self._report(level, message)

    def invoke(self, context, _event):
        """From the UI: starts the job and a window timer; returns at once."""
        try:
            self._job = start_job(context)
        except Da3Error as e:
            context.scene.da3.status = "Failed: " + e.report_text()
            context.scene.da3.last_error_code = e.code
            return self._report("ERROR", "DA3: " + e.report_text())
        wm = context.window_manager
        self._timer = wm.event_timer_add(0.25, window=context.window)
        wm.modal_handler_add(self)
        return {"RUNNING_MODAL"}

    def modal(self, context, event):
        """Timer events: shows progress; imports (main thread) and reports once the job ended."""
        if event.type != "TIMER":  # (any window timer: checking the job is cheap)
            return {"PASS_THROUGH"}
        job = self._job
        snap = job.snapshot()
        context.scene.da3.status = "Running: " + snap["message"]
        redraw(context)
        if not job.finished:
            return {"PASS_THROUGH"}
        context.window_manager.event_timer_remove(self._timer)
        level, message, _ = finish_job(context, job)
        redraw(context)
        return self._report(level, message)


class DA3_OT_cancel_reconstruct(bpy.types.Operator):
    """Cancel the running DA3 reconstruction (nothing is imported)"""

    bl_idname = "da3.cancel_reconstruct"
    bl_label = "Cancel"

    def execute(self, context):
        """Asks every running job to cancel."""
        if not ACTIVE_JOBS:
            self.report({"INFO"}, "DA3: no reconstruction is running")
            return {"CANCELLED"}
        for job in ACTIVE_JOBS:
            job.cancel()
        context.scene.da3.status = "Canceling…"
        return {"FINISHED"}


class DA3_OT_choose_images(bpy.types.Operator):
    """Choose the photos to reconstruct"""

    bl_idname = "da3.choose_images"
    bl_label = "Choose Images"

    directory: bpy.props.StringProperty(subtype="DIR_PATH", options={"HIDDEN", "SKIP_SAVE"})
    files: bpy.props.CollectionProperty(type=bpy.types.OperatorFileListElement, options={"HIDDEN", "SKIP_SAVE"})
    filter_image: bpy.props.BoolProperty(default=True, options={"HIDDEN"})
    filter_folder: bpy.props.BoolProperty(default=True, options={"HIDDEN"})

    def invoke(self, context, _event):
        """Opens the file browser."""
        context.window_manager.fileselect_add(self)
        return {"RUNNING_MODAL"}

    def execute(self, context):
        """Stores the chosen files (sorted) as the Images source."""
        settings = context.scene.da3
        settings.images.clear()
        for f in sorted(f.name for f in self.files if f.name):
            settings.images.add().filepath = os.path.join(self.directory, f)
        settings.source = "IMAGES"
        return {"FINISHED"}


class DA3_OT_clear_images(bpy.types.Operator):
    """Forget the chosen images"""

    bl_idname = "da3.clear_images"
    bl_label = "Clear"

    def execute(self, context):
        """Forgets the chosen images."""
        context.scene.da3.images.clear()
        return {"FINISHED"}


class DA3_OT_start_backend(bpy.types.Operator):
    """Start da3 backend on this machine (needs the da3 CLI: npm install -g @da3js/node)"""

    bl_idname = "da3.start_backend"
    bl_label = "Start Backend"

    def execute(self, context):
        """Starts da3 backend, or reports the command to run when da3 is missing."""
        prefs = preferences(context)
        command = local_backend.find_command(prefs.da3_command)
        if command is None:
            cmd = local_backend.suggested_command(prefs.local_model, prefs.local_port)
            context.window_manager.clipboard = cmd
            self.report({"ERROR"}, "DA3: [NOT_INSTALLED] da3 is not on PATH; run this (copied to the clipboard): " + cmd)
            return {"CANCELLED"}
        try:
            url, _ = BACKEND.start(command, prefs.local_model, prefs.local_port, prefs.state_dir or None)
        except Da3Error as e:
            self.report({"ERROR"}, "DA3: " + e.report_text())
            return {"CANCELLED"}
        self.report({"INFO"}, "DA3: backend listening on %s (the model loads in the background)" % url)
        return {"FINISHED"}


class DA3_OT_stop_backend(bpy.types.Operator):
    """Stop the da3 backend the add-on started"""

    bl_idname = "da3.stop_backend"
    bl_label = "Stop Backend"

    def execute(self, _context):
        """Stops the backend the add-on started."""
        BACKEND.stop()
        return {"FINISHED"}


class DA3_OT_check_backend(bpy.types.Operator):
    """Check whether the service answers (and whether its model is loaded)"""

    bl_idname = "da3.check_backend"
    bl_label = "Check"

    def execute(self, context):
        """Asks the chosen service whether it answers and is ready."""
        settings = context.scene.da3
        try:
            service = make_service(settings, preferences(context))
            ready = service.ready() if service.kind != "edge" else bool(service.health())
        except Da3Error as e:
            settings.status = "Service: " + e.report_text()
            self.report({"ERROR"}, "DA3: " + e.report_text())
            return {"CANCELLED"}
        settings.status = "Service: %s at %s" % ("ready" if ready else "loading the model", service.base_url)
        self.report({"INFO"}, "DA3: " + settings.status)
        return {"FINISHED"}


class DA3_OT_use_camera(bpy.types.Operator):
    """Look through this DA3 camera (sets the scene camera, render size and pixel aspect)"""

    bl_idname = "da3.use_camera"
    bl_label = "Use Camera"

    name: bpy.props.StringProperty()

    def execute(self, context):
        """Makes the named (or active) camera the scene camera with its resolution and pixel aspect."""
        from .cameras import use_camera

        obj = bpy.data.objects.get(self.name) or context.active_object
        if obj is None or obj.type != "CAMERA":
            self.report({"ERROR"}, "DA3: choose a camera")
            return {"CANCELLED"}
        use_camera(context.scene, obj)
        return {"FINISHED"}


CLASSES = (
    DA3_OT_reconstruct,
    DA3_OT_cancel_reconstruct,
    DA3_OT_choose_images,
    DA3_OT_clear_images,
    DA3_OT_start_backend,
    DA3_OT_stop_backend,
    DA3_OT_check_backend,
    DA3_OT_use_camera,
)


def register():
    """Registers the operators."""
    for cls in CLASSES:
        bpy.utils.register_class(cls)


def unregister():
    """Cancels running jobs, stops a backend the add-on started, unregisters."""
    for job in list(ACTIVE_JOBS):
        job.cancel()
    BACKEND.stop()
    for cls in reversed(CLASSES):
        bpy.utils.unregister_class(cls)
