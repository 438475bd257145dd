#!/usr/bin/env bash
# The package as a user gets it (issue 16, part 1): the wheel is built, installed WITHOUT extras in a fresh venv
# outside the checkout (pinned by requirements/lock.txt), and `lienthong init`, `normalize` and `sync` run on a small
# member file with nothing but the package's own bundled data (code lists, contracts, migrations). Then a second
# venv gets the `[airflow]` extra and Airflow's DagBag imports dags/ with no import error.
# Usage: scripts/smoke-wheel.sh [wheel|airflow|all]   (default all). Installs come from uv's cache when warm.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
what="${1:-all}"
uv="${UV:-$root/.venv/bin/uv}"
python="${SMOKE_PYTHON:-$root/.venv/bin/python}"
lock="$root/requirements/lock.txt"
work="$(mktemp -d "${TMPDIR:-/tmp}/lienthong-smoke.XXXXXX")"
trap 'rm -rf "$work"' EXIT
say() { printf '\n== %s\n' "$*"; }

say "build the wheel"
# From a copy of what the wheel is made of: setuptools leaves build/ and *.egg-info beside the sources it builds.
mkdir "$work/src"
cp -r "$root"/{pyproject.toml,README.md,lienthong,connectors,schemas,catalog,quality} "$work/src/"
find "$work/src" -name __pycache__ -prune -exec rm -rf {} +
"$uv" build --quiet --wheel --out-dir "$work/dist" "$work/src"
wheel="$(ls "$work"/dist/lienthong-*.whl)"

fresh_venv() {  # $1 folder, $2 requirement: a venv outside the checkout, pinned by the lock
  "$uv" venv --quiet --python "$python" "$1"
  "$uv" pip install --quiet --python "$1/bin/python" --constraint "$lock" "$2"
}

if [[ "$what" == wheel || "$what" == all ]]; then
  say "install $(basename "$wheel") without extras"
  fresh_venv "$work/plain" "$wheel"
  home="$work/home" drop="$work/drop" sources="$work/sources"
  mkdir -p "$drop" "$sources"
  # A Women's Union branch list, semicolon-separated as Excel writes it in Vietnam: two good rows, one refused.
  printf '\xef\xbb\xbf%s\n' \
    "Mã hội viên;Họ và tên;Giới tính;Ngày sinh;Số CCCD;Số điện thoại;Dân tộc;Tôn giáo;Mã xã;Địa chỉ;Chi hội" \
    "HV001;Nguyễn Thị Hoà;Nữ;01/02/1985;001185012345;0912345678;Kinh;Không;00070;Số 1 Hàng Bạc;Chi hội 1" \
    "HV002;trần thị  lan;2;15/07/1990;079190123456;+84 983 123 456;01;00;00070;;Chi hội 1" \
    "HV003;Vũ Thị Ngọc;Nữ;31/02/1985;0011850123;;Kinhh;Không;99999;;Chi hội 1" > "$drop/hoi_vien.csv"
  cat > "$sources/hlhpn_files.yml" <<YAML
id: hlhpn_files
title: Hội LHPN — danh sách hội viên (tệp)
organisation: HLHPN
dataset: members
connector: {type: files, path: "$drop", pattern: "*.csv"}
mapping: {member_id: Mã hội viên, full_name: Họ và tên, sex: Giới tính, date_of_birth: Ngày sinh,
          id_number: Số CCCD, phone: Số điện thoại, ethnicity_code: Dân tộc, religion_code: Tôn giáo,
          ward_code: Mã xã, address: Địa chỉ, branch: Chi hội}
constants: {organisation: HLHPN}
YAML
  cd "$work"  # nothing of the checkout on sys.path
  export LIENTHONG_HOME="$home" LIENTHONG_SOURCES_DIR="$sources" LIENTHONG_DATABASE_URL="sqlite:///$work/wh.db"
  export LIENTHONG_WARM_DIR="$work/warm"  # the warm process `normalize` starts, stopped below
  lt="$work/plain/bin/lienthong"
  say "lienthong init";      "$lt" init
  say "lienthong normalize"; "$lt" normalize "$drop/hoi_vien.csv" --out "$work/sach.csv"
  grep -q "Nguyễn Thị Hòa" "$work/sach.csv" || { echo "normalize did not clean the names"; exit 1; }
  say "lienthong normalize, again (warm when its process is up)"
  "$lt" warm start
  "$lt" normalize "$drop/hoi_vien.csv" --out "$work/sach2.csv"
  cmp "$work/sach.csv" "$work/sach2.csv" || { echo "normalize gave another file the second time"; exit 1; }
  "$lt" warm status | grep -Eq "[1-9][0-9]* commands served" || { echo "the warm process served nothing"; exit 1; }
  "$lt" warm stop
  say "lienthong sync";      "$lt" sync
  "$work/plain/bin/python" - "$work/wh.db" <<'PY'
import sqlite3, sys
con = sqlite3.connect(sys.argv[1])
published = con.execute("select count(*) from pub_members").fetchone()[0]
quarantined = con.execute("select count(*) from quarantine").fetchone()[0]
assert (published, quarantined) == (2, 1), (published, quarantined)
print(f"published {published}, quarantined {quarantined}: the wheel alone runs the job")
PY
  test -s "$home/open-data/datapackage.json" || { echo "no open-data release written"; exit 1; }
  unset LIENTHONG_HOME LIENTHONG_SOURCES_DIR LIENTHONG_DATABASE_URL
  cd "$root"
fi

if [[ "$what" == airflow || "$what" == all ]]; then
  say "install $(basename "$wheel")[airflow] and import the DAGs"
  fresh_venv "$work/airflow" "lienthong[airflow] @ file://$wheel"
  cd "$work"
  AIRFLOW_HOME="$work/airflow-home" AIRFLOW__CORE__LOAD_EXAMPLES=False LIENTHONG_SOURCES_DIR="$root/sources" \
    LIENTHONG_HOME="$work/home-airflow" "$work/airflow/bin/python" - "$root/dags" <<'PY'
import sys
from airflow.dag_processing.dagbag import DagBag
bag = DagBag(dag_folder=sys.argv[1])
assert not bag.import_errors, bag.import_errors
assert bag.dags, "no DAG found"
print(f"{len(bag.dags)} DAGs imported with no error: {', '.join(sorted(bag.dags))}")
PY
  cd "$root"
fi
say "smoke ok"
