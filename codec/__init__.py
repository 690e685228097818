"""Grid tokens <-> patterns, MIDI files <-> patterns, dataset windows.

One codec, imported by dataset building, training, export and the runtime.
Headless: imports neither textual nor rich, nor torch.
"""

from __future__ import annotations

from codec.errors import CodecError

__all__ = ["CodecError"]
