"""What a user may ask of the model: one definition of each range, for the runner, the
app's command language and the command line (no imports, so the app can read it at
start without loading numpy or llama.cpp)."""

from __future__ import annotations

MAX_SEED = 2**32 - 1
MIN_TEMPERATURE, MAX_TEMPERATURE = 0.05, 3.0
# what a user gets unless they ask (placement: which step, which drum): at 0.9 new beats
# come closest to real ones on `autobeat eval --groove` (steady hats, crashes, the
# backbeat); see models/README.md
DEFAULT_TEMPERATURE = 0.9
