"""One router per area: admission (:mod:`.validate`, :mod:`.mutate`) and operations (:mod:`.health`)."""
