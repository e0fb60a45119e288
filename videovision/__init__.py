"""videovision: understand recorded video with vision language models."""

from .errors import *  # noqa: F401,F403  (filled properly once the stages exist)
from .types import *  # noqa: F401,F403

__version__ = "0.1.0"
