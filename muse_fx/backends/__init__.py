"""Where enhancement runs, behind one Protocol (`enhancement.Enhancement`): on this machine (`local`) or on a
muse-fx server (`remote`, over the HTTP `client`, with the bearer token read as the server reads it:
`bearer_token`)."""
