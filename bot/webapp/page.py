"""The Mini App's page at `/app/`: one small HTML file, a style sheet and a JavaScript
module, shipped inside the package (no build step, no Node.js in the image). A strict
Content-Security-Policy: scripts from here and Telegram's own `telegram-web-app.js` only,
API calls to here only, and only Telegram may frame it."""

from __future__ import annotations

from pathlib import Path

from aiohttp import web

PAGE_DIR = Path(__file__).parent / "page"
FILES = {"": "index.html", "index.html": "index.html", "app.js": "app.js", "app.css": "app.css"}
TYPES = {".html": "text/html", ".js": "text/javascript", ".css": "text/css"}
POLICY = "; ".join(
    [
        "default-src 'none'",
        "script-src 'self' https://telegram.org",
        "style-src 'self'",
        "img-src 'self' https: data:",
        "connect-src 'self'",
        "base-uri 'none'",
        "form-action 'none'",
        "frame-ancestors https://web.telegram.org https://*.telegram.org",
    ]
)


def page_routes(app: web.Application) -> None:
    contents = {name: (PAGE_DIR / file).read_bytes() for name, file in FILES.items()}

    async def serve(request: web.Request) -> web.Response:
        name = request.match_info.get("name", "")
        body = contents.get(name)
        if body is None:
            raise web.HTTPNotFound()
        kind = TYPES[Path(FILES[name]).suffix]
        return web.Response(
            body=body,
            content_type=kind,
            charset="utf-8",
            headers={
                "Content-Security-Policy": POLICY,
                "X-Content-Type-Options": "nosniff",
                "Referrer-Policy": "no-referrer",
                "Cache-Control": "no-cache",  # a new version shows at the next opening
            },
        )

    async def to_folder(request: web.Request) -> web.Response:
        raise web.HTTPFound("/app/")

    app.router.add_get("/app", to_folder)
    app.router.add_get("/app/", serve)
    app.router.add_get("/app/{name}", serve)
