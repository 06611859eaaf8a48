"""A counter of states created outside any trace.

Compiled functions remember the set of state objects their function reached. A user can swap
a state object for a new one (`self.h = HiddenState(...)`) without changing any shape, which
no argument signature would reveal. Every state created outside a trace bumps this counter;
`jit` compares it with the value it saw last (one integer comparison per call) and, when it
moved, re-discovers the function's states once before trusting its compiled entry.
"""

value = 0


def bump() -> None:
    global value
    value += 1
