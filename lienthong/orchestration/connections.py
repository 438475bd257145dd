"""Secrets from an Airflow Connection, handed to a connector as the environment variable it names.

A source never holds a secret: its YAML names an environment variable (``auth.token_env``, ``auth.key_env``,
``url_env``; a gateway source ``token.access_key_env`` and ``token.secret_key_env``). In a deployment those
variables can come from the workers' environment, or — so that operators manage secrets in one place, Airflow's
connections or its secrets backend (Vault, AWS SM…) — from the Airflow Connection ``lienthong_<source_id>``: its
password is the API token or key, for a SQL source its URI (``postgresql+psycopg://user:password@host:5432/db``)
is the database URL, for a gateway source its login is the access key and its password the secret. Like an
Airflow hook, this owns the connection lookup; the connector stays unaware of Airflow.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable

from lienthong.registry import SourceConfig

log = logging.getLogger(__name__)


def connection_id(source_id: str) -> str:
    """The Airflow Connection that may hold ``source_id``'s secret."""
    return f"lienthong_{source_id}"


def secret_variables(source: SourceConfig) -> dict[str, str]:
    """Environment variables ``source``'s connector reads its secrets from, each with what it holds."""
    spec = source.connector
    names: dict[str, str] = {}
    auth = getattr(spec, "auth", None)
    for attr in ("token_env", "key_env"):
        if name := getattr(auth, attr, None):
            names[name] = "password"
    if name := getattr(spec, "url_env", None):
        names[name] = "uri"
    token = getattr(spec, "token", None)  # a gateway's connection account: access key and secret
    if name := getattr(token, "access_key_env", None):
        names[name] = "login"
    if name := getattr(token, "secret_key_env", None):
        names[name] = "password"
    return names


def _airflow_connection(conn_id: str):  # pragma: no cover - exercised through the Airflow test below
    from airflow.sdk import Connection
    from airflow.sdk.exceptions import AirflowNotFoundException

    try:
        return Connection.get(conn_id)
    except AirflowNotFoundException:
        return None


def export_connection_secrets(source: SourceConfig, *, get_connection: Callable = _airflow_connection) -> list[str]:
    """Set the environment variables ``source`` reads its secrets from, from its Airflow Connection if any.

    The connection wins over a variable already set: it is where the operator put the secret on purpose.
    Without a connection nothing changes and the connector reads the worker's environment as on the CLI.

    Args:
        source: the source about to be extracted.
        get_connection: looks a connection up by id, ``None`` when there is none (Airflow's, by default).

    Returns:
        The names of the variables set (never their values).
    """
    wanted = secret_variables(source)
    if not wanted:
        return []
    conn = get_connection(connection_id(source.id))
    if conn is None:
        return []
    exported = []
    for name, part in wanted.items():
        value = {"password": conn.password, "login": conn.login}[part] if part != "uri" else conn.get_uri()
        if value:
            os.environ[name] = value
            exported.append(name)
    log.info("source %s: %s set from Airflow connection %s", source.id, ", ".join(exported) or "nothing",
             connection_id(source.id))
    return exported
