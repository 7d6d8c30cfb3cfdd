"""Pure scheduling logic: placement, needs and sizing, launch types, deployment arithmetic, the record.

No I/O and no clock: each function is a table over plain data, unit-tested exhaustively (an
import-linter contract keeps servers, the store, settings and the event loop out).
"""
