"""The files the plugin writes and the trust rule for the ones it reads: checkpoints, resume state, atomic writes."""
