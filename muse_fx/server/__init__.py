"""`muse-fx serve`: the models load once on one device and concurrent requests share its forward passes.

`app.create_app` builds the FastAPI app; `muse_fx.backends.client.ServerClient` is the matching client. Nothing here is
imported by `import muse_fx`, so the server's dependencies stay optional (the `server` extra).
"""
