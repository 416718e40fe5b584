"""Template set-up for the pages: Jinja with Vietnamese dates in the province's time zone."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.static_files import create_static_files_router
from litestar.template.config import TemplateConfig

HERE = Path(__file__).parent


def vn_date(moment: datetime | None, timezone: str = "Asia/Ho_Chi_Minh") -> str:
    return moment.astimezone(ZoneInfo(timezone)).strftime("%d/%m/%Y") if moment else ""


def vn_datetime(moment: datetime | None, timezone: str = "Asia/Ho_Chi_Minh") -> str:
    """'16 giờ 30, ngày 06/09/2026', as receipts write it."""
    if moment is None:
        return ""
    local = moment.astimezone(ZoneInfo(timezone))
    return f"{local:%H} giờ {local:%M}, ngày {local:%d/%m/%Y}"


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
