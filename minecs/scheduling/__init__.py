"""Pure scheduling logic: task placement now; deployment arithmetic and the circuit breaker next.

No I/O and no clock: each function is a table over plain data, unit-tested exhaustively.
"""
