"""Scaling out on Ray (the `ray` extra): `batch` enhances whole libraries on a pool of actors and
`serve` puts the HTTP API of `muse_fx.server` on Ray Serve replicas (docs/scale-out.md).

Nothing outside this package imports Ray, and `cluster` imports it only once a command asks for it.
"""
