#!/usr/bin/env bash
# First start of the PostgreSQL container only (docker-entrypoint-initdb.d): one server, two databases, two roles.
#   airflow   — Airflow's metadata database (DAG runs, task instances, XComs, asset events)
#   lienthong — the hub's warehouse (raw zone, staging, published tables, quarantine, code lists)
# Passwords come from the environment the compose file passes (see .env.example); none is written here.
set -euo pipefail

psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" \
  -v airflow_password="$AIRFLOW_DB_PASSWORD" -v lienthong_password="$LIENTHONG_DB_PASSWORD" <<'SQL'
CREATE ROLE airflow LOGIN PASSWORD :'airflow_password';
CREATE DATABASE airflow OWNER airflow;
CREATE ROLE lienthong LOGIN PASSWORD :'lienthong_password';
CREATE DATABASE lienthong OWNER lienthong ENCODING 'UTF8' TEMPLATE template0;
SQL
