"""The ASGI application: routes for LWA, the emulated SP-API operations, documents and the admin API."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import AsyncIterator
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from . import admin, definitions, feeds, listings
from .config import SandboxConfig
from .errors import ApiError, error_response
from .feed_processing import process_feed
from .lwa import token_endpoint
from .persistence import StateStore
from .runtime import Sandbox

ITEM = "/listings/2021-08-01/items/{sellerId}/{sku:path}"


def _by_method(path: str, endpoints: dict[str, Any]) -> Route:
    """One route for several methods of one path: Starlette tries routes in order, and a route whose path matches
    but whose method does not costs a full match; the hot Listings item path is matched once instead of four times.
    (HEAD is answered like GET, as Starlette does.)"""

    async def endpoint(request: Request) -> Response:
        handler = endpoints.get(request.method) or endpoints["GET"]
        return await handler(request)

    endpoint.__name__ = "_".join(getattr(e, "__name__", "endpoint") for e in endpoints.values())
    return Route(path, endpoint, methods=list(endpoints))


def _routes() -> list[Route]:
    op = listings.route
    return [
        _by_method(ITEM, {"PATCH": op("patchListingsItem", listings.patch_item),
                          "GET": op("getListingsItem", listings.get_item),
                          "PUT": op("putListingsItem", listings.put_item),
                          "DELETE": op("deleteListingsItem", listings.delete_item)}),
        Route("/auth/o2/token", token_endpoint, methods=["POST"]),
        Route("/listings/2021-08-01/items/{sellerId}", op("searchListingsItems", listings.search_items),
              methods=["GET"]),
        Route("/listings/2021-08-01/restrictions", op("getListingsRestrictions", listings.get_restrictions),
              methods=["GET"]),
        Route("/feeds/2021-06-30/documents", op("createFeedDocument", feeds.create_document), methods=["POST"]),
        Route("/feeds/2021-06-30/documents/{feedDocumentId}", op("getFeedDocument", feeds.get_document),
              methods=["GET"]),
        _by_method("/feeds/2021-06-30/feeds", {"GET": op("getFeeds", feeds.get_feeds),
                                               "POST": op("createFeed", feeds.create_feed)}),
        _by_method("/feeds/2021-06-30/feeds/{feedId}", {"GET": op("getFeed", feeds.get_feed),
                                                        "DELETE": op("cancelFeed", feeds.cancel_feed)}),
        Route("/definitions/2020-09-01/productTypes", op("searchDefinitionsProductTypes", definitions.search),
              methods=["GET"]),
        Route("/definitions/2020-09-01/productTypes/{productType}",
              op("getDefinitionsProductType", definitions.get_definition), methods=["GET"]),
        # URLs the sandbox hands out (presigned-URL style, no SP-API auth)
        _by_method("/_sandbox/documents/{document_id}", {"GET": feeds.download_document,
                                                         "PUT": feeds.upload_document}),
        Route(definitions.META_SCHEMA_PATH, definitions.serve_meta_schema, methods=["GET"]),
        Route("/_sandbox/definitions/{productType}.json", definitions.serve_schema, methods=["GET"]),
        Route("/_sandbox/approval", definitions.approval_page, methods=["GET"]),
        # admin API
        Route("/_sandbox/health", admin.health, methods=["GET"]),
        _by_method("/_sandbox/sellers", {"GET": admin.list_sellers, "POST": admin.register_seller}),
        Route("/_sandbox/sellers/{seller_id}/listings", admin.seller_listings, methods=["GET"]),
        Route("/_sandbox/sellers/{seller_id}/history", admin.seller_history, methods=["GET"]),
        Route("/_sandbox/requests", admin.request_log, methods=["GET"]),
        _by_method("/_sandbox/config", {"GET": admin.get_config, "POST": admin.set_config}),
        Route("/_sandbox/reset", admin.reset, methods=["POST"]),
        Route("/_sandbox/notifications", admin.notifications, methods=["GET"]),
    ]


async def _http_error(request: Request, exc: Exception) -> Response:
    status = getattr(exc, "status_code", 500)
    message = "Resource not found." if status == 404 else getattr(exc, "detail", "Request failed.")
    return error_response(ApiError(status, str(message), f"{request.method} {request.url.path}"))


async def _server_error(request: Request, exc: Exception) -> Response:
    return error_response(ApiError(500, "An unexpected condition occurred that prevented the server from "
                                   "fulfilling the request.", type(exc).__name__))


class RequestIdMiddleware:
    """Adds `x-amzn-RequestId` to every response, SP-API or not."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_id(message: Any) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []),
                                      (b"x-amzn-requestid", str(uuid.uuid4()).encode())]
            await send(message)

        await self.app(scope, receive, send_with_id)


class SandboxApp(Starlette):
    """Starlette with `x-amzn-RequestId` added outside its error middleware, so a 500 from an unexpected exception
    carries the header too (middleware added with `add_middleware` sits inside Starlette's ServerErrorMiddleware)."""

    def build_middleware_stack(self) -> Any:
        return RequestIdMiddleware(super().build_middleware_stack())


def create_app(config: SandboxConfig | None = None) -> Any:
    """The sandbox as an ASGI app; `app.state.sandbox` is the running `Sandbox` (state, config, plans)."""
    sandbox = Sandbox(config or SandboxConfig())
    if sandbox.config.state_path:
        sandbox.store = StateStore(sandbox)
        sandbox.store.load()

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        if sandbox.store is not None:
            sandbox.spawn(sandbox.store.run())
            for feed in sandbox.store.unfinished_feeds():
                feed.status, feed.started = "IN_QUEUE", None
                sandbox.spawn(process_feed(sandbox, feed))
        try:
            yield
        finally:
            for task in list(sandbox.tasks):
                task.cancel()
            if sandbox.store is not None:
                sandbox.store.flush()

    app = SandboxApp(routes=_routes(), lifespan=lifespan,
                     exception_handlers={HTTPException: _http_error, Exception: _server_error})
    app.state.sandbox = sandbox
    return app
