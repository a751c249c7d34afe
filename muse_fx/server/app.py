"""The HTTP surface: GET /health, GET /v1/models and POST /v1/enhance, all behind the bearer token if one is set."""

from __future__ import annotations

from contextlib import asynccontextmanager

import torch
from fastapi import Depends, FastAPI, Header, HTTPException, Request
from fastapi.responses import JSONResponse

from muse_fx import __version__
from muse_fx.errors import AudioInputError, NonFiniteOutputError
from muse_fx.server.batcher import Batcher
from muse_fx.server.limits import ServerConfig
from muse_fx.server.model_pool import ServedModel
from muse_fx.server.service import Service
from muse_fx.server.tokens import token_matches


def create_app(
    models: dict[str, ServedModel], device: torch.device, config: ServerConfig, batcher: Batcher | None = None
) -> FastAPI:
    """An app serving `models` (already on `device`); the first model is the default. `batcher` replaces the
    server's own (Ray Serve brings one that batches with `@serve.batch`)."""
    service = Service(models, device, config, batcher)

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        service.batcher.start()
        yield
        service.batcher.stop()

    def authorize(authorization: str | None = Header(None)) -> None:
        if config.token is not None and not token_matches(config.token, authorization):
            raise HTTPException(401, "missing or wrong bearer token", headers={"WWW-Authenticate": "Bearer"})

    # No /docs or /openapi.json: they would answer without the token; docs/server.md describes the API.
    app = FastAPI(
        title="muse-fx",
        version=__version__,
        lifespan=lifespan,
        dependencies=[Depends(authorize)],
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
    )
    app.state.server_config = config  # the connection limits, for runner.uvicorn_settings
    app.get("/health")(service.health)
    app.get("/v1/models")(service.list_models)
    app.post("/v1/enhance")(service.enhance)

    @app.exception_handler(AudioInputError)
    async def unprocessable(request: Request, error: AudioInputError) -> JSONResponse:
        return JSONResponse({"detail": str(error)}, status_code=422)

    @app.exception_handler(NonFiniteOutputError)
    async def not_sent(request: Request, error: NonFiniteOutputError) -> JSONResponse:
        return JSONResponse({"detail": str(error)}, status_code=500)  # a fault of ours: no NaN goes out

    return app
