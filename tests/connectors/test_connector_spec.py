"""``connectors.ConnectorSpec`` and ``build_connector``: the YAML shapes sources use, and their mistakes."""

from __future__ import annotations

import pydantic
import pytest
import yaml

from connectors import ConnectorSpec, FilesConfig, RestConfig, SqlConfig, build_connector
from connectors.base import ConnectorConfig
from connectors.files import FilesConnector
from connectors.http import BearerAuth, PagePagination
from connectors.rest import RestConnector
from connectors.sql import SqlConnector
from lienthong.errors import ConfigError

SPEC = pydantic.TypeAdapter(ConnectorSpec)

FILES_YAML = """
type: files
path: /srv/lienthong/drop/hoi_phu_nu
pattern: "*.xlsx"
sheet: Danh sách hội viên
"""

REST_YAML = """
type: rest
url: https://api.hoinongdan.example/v1/members
records_path: data
params: {tinh: "01"}
pagination: {type: page, page_size: 500}
auth: {type: bearer, token_env: HOI_ND_TOKEN}
incremental: {param: updated_since, field: updated_at}
timeout_s: 30
max_retries: 5
backoff_s: 0.5
"""

SQL_YAML = """
type: sql
url_env: HOI_CCB_DB_URL
table: public.hoi_vien
watermark: updated_at
key: id
chunk_size: 50000
"""


@pytest.mark.parametrize(
    ("text", "config_type", "connector_type"),
    [(FILES_YAML, FilesConfig, FilesConnector), (REST_YAML, RestConfig, RestConnector),
     (SQL_YAML, SqlConfig, SqlConnector)],
    ids=["files", "rest", "sql"],
)
def test_yaml_shapes(text: str, config_type: type, connector_type: type) -> None:
    config = SPEC.validate_python(yaml.safe_load(text))

    connector = build_connector(config, source_id="demo_source")

    assert isinstance(config, config_type)
    assert isinstance(connector, connector_type)
    assert connector.source_id == "demo_source"


def test_rest_strategies_are_picked_by_type() -> None:
    config = SPEC.validate_python(yaml.safe_load(REST_YAML))

    assert isinstance(config, RestConfig)
    assert config.pagination == PagePagination(page_size=500)
    assert config.auth == BearerAuth(token_env="HOI_ND_TOKEN")


@pytest.mark.parametrize(
    ("raw", "problem"),
    [
        ({"type": "ftp", "path": "/x"}, "does not match any of the expected tags"),
        ({"type": "files", "path": "/x", "sheeet": "A"}, "Extra inputs are not permitted"),
        ({"type": "rest", "url": "https://x", "pagination": {"type": "pages"}}, "does not match any"),
        ({"type": "rest", "url": "https://x", "auth": {"type": "bearer", "token": "abc"}}, "token_env"),
    ],
    ids=["unknown-type", "typo", "unknown-pagination", "inline-secret"],
)
def test_mistakes_are_rejected(raw: dict, problem: str) -> None:
    with pytest.raises(pydantic.ValidationError, match=problem):
        SPEC.validate_python(raw)


def test_build_connector_for_an_unknown_config() -> None:
    class FtpConfig(ConnectorConfig):
        type: str = "ftp"

    with pytest.raises(ConfigError, match="no connector for type 'ftp'; known: files, gateway, push, rest, sql, xroad"):
        build_connector(FtpConfig(), source_id="x")
