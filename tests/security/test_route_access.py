"""Every route declares who may call it, and every staff change says whether it is audited."""

from litestar.handlers import HTTPRouteHandler

from motcua.audit.trail import AUDIT_OPT

SAFE = {"GET", "HEAD", "OPTIONS"}


def _handlers(app):
    for route in app.routes:
        for handler in route.route_handlers:
            # Litestar's own answer to a CORS preflight: no handler of ours behind it.
            if getattr(handler, "http_methods", None) == {"OPTIONS"}:
                continue
            yield route.path, handler


def _rule(handler):
    guards = [g.__qualname__ for g in handler.resolve_guards()]
    if any(name.startswith("requires(") for name in guards):
        return "guarded"
    if handler.opt.get("access") == "public":
        return "public"
    return None


def test_every_route_of_the_app_declares_an_access_rule(app):
    missing = [
        f"{sorted(getattr(h, 'http_methods', ['WS']))} {path}"
        for path, h in _handlers(app)
        if _rule(h) is None
    ]
    assert missing == []


def test_every_operation_of_the_openapi_schema_is_a_route_with_an_access_rule(app):
    by_path = {}
    for path, handler in _handlers(app):
        by_path.setdefault(path.replace(":str", "").replace(":uuid", ""), []).append(handler)
    schema = app.openapi_schema.to_schema()
    assert len(schema["paths"]) > 20
    for path, operations in schema["paths"].items():
        handlers = by_path.get(path)
        assert handlers, f"{path} is documented but not routed"
        for method in operations:
            if method.upper() not in {"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD"}:
                continue
            (handler,) = [
                h
                for h in handlers
                if isinstance(h, HTTPRouteHandler) and method.upper() in h.http_methods
            ]
            assert _rule(handler), f"{method.upper()} {path} has no access rule"


def test_every_guarded_route_that_changes_something_says_whether_it_is_audited(app):
    silent = [
        f"{sorted(h.http_methods)} {path}"
        for path, h in _handlers(app)
        if isinstance(h, HTTPRouteHandler)
        and _rule(h) == "guarded"
        and set(h.http_methods) - SAFE
        and AUDIT_OPT not in h.opt
    ]
    assert silent == []
