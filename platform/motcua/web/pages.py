"""Template set-up for the pages: Jinja with Vietnamese dates in the province's time zone."""

from __future__ import annotations

from pathlib import Path

from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.static_files import create_static_files_router
from litestar.template.config import TemplateConfig

from motcua.dates import vn_date, vn_datetime

HERE = Path(__file__).parent


def _engine(engine: JinjaTemplateEngine) -> None:
    engine.engine.filters["vn_date"] = vn_date
    engine.engine.filters["vn_datetime"] = vn_datetime


def template_config() -> TemplateConfig[JinjaTemplateEngine]:
    # Jinja escapes every value by default: what a citizen typed is shown as text.
    return TemplateConfig(
        directory=HERE / "templates", engine=JinjaTemplateEngine, engine_callback=_engine
    )


static_files = create_static_files_router(
    path="/static", directories=[HERE / "static"], include_in_schema=False, opt={"access": "public"}
)
