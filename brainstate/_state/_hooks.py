"""State hooks (stub: the full registry lands separately; the interface below is fixed).

`ACTIVE` is True while any global hook is registered; `State` checks it and its own
`_hooks` attribute before calling into this module, so hooks cost nothing when none exist.
"""

ACTIVE = False


def run_read(state, value):
    return None


def run_write_before(state, value, old):
    return value


def run_write_after(state, value, old):
    return None


def run_init(state, value, metadata):
    return None


def run_restore(state, value, old):
    return None
