"""The hub's working context: settings, warehouse engine, source registry and current code lists, opened once."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

from sqlalchemy import Engine

from catalog.model import CodeList
from lienthong.errors import ConfigError, WarehouseError
from lienthong.registry import SourceConfig, load_registry
from lienthong.settings import Settings, get_settings
from lienthong.warehouse.catalog_store import load_current_code_lists
from lienthong.warehouse.engine import open_engine, require_schema


@dataclass
class Hub:
    settings: Settings
    engine: Engine

    @classmethod
    def open(cls, settings: Settings | None = None, *, require_init: bool = True) -> Hub:
        settings = settings or get_settings()
        settings.home.mkdir(parents=True, exist_ok=True)
        engine = open_engine(settings.warehouse_url)
        if require_init:
            require_schema(engine)
        return cls(settings, engine)

    @cached_property
    def sources(self) -> dict[str, SourceConfig]:
        return load_registry(self.settings.sources_dir, self.settings.registry_variables())

    def source(self, source_id: str) -> SourceConfig:
        try:
            return self.sources[source_id]
        except KeyError:
            msg = f"unknown source {source_id!r}; known: {', '.join(self.sources) or 'none'}"
            raise ConfigError(msg, message_vi=f"Không có nguồn {source_id!r}") from None

    @cached_property
    def code_lists(self) -> dict[str, CodeList]:
        lists = load_current_code_lists(self.engine)
        if not lists:
            msg = "the warehouse has no code lists: run `lienthong init`"
            raise WarehouseError(msg, message_vi="Kho dữ liệu chưa có danh mục: chạy `lienthong init`")
        return lists

    def refresh_code_lists(self) -> None:
        self.__dict__.pop("code_lists", None)

    def initialise(self) -> list[tuple[str, str, bool]]:
        """Bring the schema to head and store the packaged code lists; returns (list, version, new) per list."""
        from catalog import load_code_lists
        from lienthong.warehouse.catalog_store import store_code_lists
        from lienthong.warehouse.migrate import upgrade

        upgrade(self.engine)
        stored = store_code_lists(self.engine, load_code_lists().values())
        self.refresh_code_lists()
        return stored
