"""What a user may ask of the model: one definition of each range, for the runner, the
app's command language and the command line (no imports, so the app can read it at
start without loading numpy or llama.cpp)."""

from __future__ import annotations

MAX_SEED = 2**32 - 1
MIN_TEMPERATURE, MAX_TEMPERATURE = 0.05, 3.0
# what a user gets unless they ask: at 0.8 a listener fitted on real beats names the
# genre of new beats as often as of real ones (0.53; 0.47 at 1.0, the training
# distribution, which `autobeat eval` measures); see models/README.md
DEFAULT_TEMPERATURE = 0.8
