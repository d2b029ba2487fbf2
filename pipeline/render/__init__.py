"""L6: the final renderer. `frame_at(plan, t)` and the video's frames come from the same Compositor."""
from pipeline.render.compositor import Compositor, frame_at

__all__ = ["Compositor", "frame_at"]
