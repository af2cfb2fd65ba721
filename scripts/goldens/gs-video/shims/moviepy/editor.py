"""Stand-in for `moviepy.editor`: ImageSequenceClip records the frames and write_videofile's
arguments instead of encoding (the goldens hold what would have been sent to ffmpeg)."""

CLIPS = []


class ImageSequenceClip:
    def __init__(self, frames, fps=None):
        self.frames = frames
        self.fps = fps

    def write_videofile(self, path, **kwargs):
        CLIPS.append({"path": path, "frames": self.frames, "clip_fps": self.fps, **kwargs})
