import textwrap

import pytest

from speakerd import config
from speakerd.config.schema import Secret
from speakerd.errors import ConfigError

from .conftest import EXAMPLE

REST = """\
subsystems:
  hq:
    name: 总部
    departments:
      tech: {name: 技术部, staff: [{id: "007", name: 吴昊}]}
route:
  department: tech
"""
MINIMAL = "categories:\n  notice: {name: 通知}\n" + REST


def problems(text):
    with pytest.raises(ConfigError) as info:
        config.parse_text(textwrap.dedent(text), "cfg.yaml")
    return info.value.problems


def test_shipped_config_loads_and_routes_withdrawals_to_003():
    cfg = config.load(EXAMPLE)
    assert cfg.platform.url == "http://127.0.0.1:8808"
    assert cfg.platform.token == "demo-token"
    dep, person = cfg.staff()["003"]
    assert dep == "finance" and person.name == "王芳"
    assert cfg.route.routes[0].department == "finance"


def test_minimal_config_takes_defaults():
    cfg = config.parse_text(MINIMAL)
    assert cfg.platform.poll_interval == 5.0
    assert cfg.storage.retention_days == 90
    assert all(getattr(cfg, s).enabled for s in ("speech", "display", "push", "gpio", "web", "health"))


@pytest.mark.parametrize(
    "text, expected",
    [
        ("platform:\n  poll_interval: 0\n", "cfg.yaml:2: platform.poll_interval: must be at least 0.2 (got 0.0)"),
        ("platform:\n  poll_intervl: 3\n", "cfg.yaml:2: platform.poll_intervl: unknown setting; did you mean 'poll_interval'?"),
        ("platform:\n  url: ftp://x\n", "cfg.yaml:2: platform.url: must be an http:// or https:// address (got 'ftp://x')"),
        ("platform:\n  batch_size: lots\n", "cfg.yaml:2: platform.batch_size: must be a whole number (got 'lots')"),
        ("platform:\n  long_poll: true\n", "cfg.yaml:2: platform.long_poll: must be a number (got 'true')"),
        ("platform: [1, 2]\n", "cfg.yaml:1: platform: must be a section of settings, not a list"),
        ("storage:\n  path: ''\n", "cfg.yaml:2: storage.path: must not be empty"),
        ("log:\n  level: loud\n", "cfg.yaml:2: log.level: must be one of debug, info, warning, error (got 'loud')"),
        ("web:\n  listen: 8080\n", "cfg.yaml:2: web.listen: must be HOST:PORT, e.g. 127.0.0.1:8080 (got '8080')"),
        ("speech:\n  enabled: maybe\n", "cfg.yaml:2: speech.enabled: must be true or false (got 'maybe')"),
        ("platform:\n  timeout: 1\n  timeout: 2\n", "cfg.yaml:3: platform.timeout: appears twice in the same section; keep one"),
        ("platform:\n  url: [oops\n", "cfg.yaml:3: (top level): not valid YAML"),
    ],
)
def test_broken_settings_name_file_line_and_field(text, expected):
    found = problems(MINIMAL + text)
    # MINIMAL takes 9 lines; shift the expected line accordingly.
    file, line, rest = expected.split(":", 2)
    shifted = f"{file}:{int(line) + 9}:{rest}"
    assert any(p.startswith(shifted) for p in found), found


@pytest.mark.parametrize(
    "text, expected",
    [
        (
            """\
            categories:
              notice: {name: 通知, priority: urgent}
            """,
            "cfg.yaml:2: categories.notice.priority: must be one of low, normal, high, critical (got 'urgent')",
        ),
        (
            """\
            categories:
              notice: {name: 通知, patterns: ["(unclosed"]}
            """,
            "cfg.yaml:2: categories.notice.patterns: not a valid regular expression",
        ),
        (
            """\
            categories:
              notice:
                types: [a.b]
            """,
            "cfg.yaml:3: categories.notice.name: required setting is missing",
        ),
        (
            """\
            categories:
              notice: {name: 通知, types: [x.y]}
              other: {name: 其他, types: [x.y]}
            """,
            "cfg.yaml:3: categories.other.types[0]: type 'x.y' is already in category 'notice'",
        ),
    ],
)
def test_category_faults(text, expected):
    body = textwrap.dedent(text) + REST
    assert any(p.startswith(expected) for p in problems(body)), problems(body)


def test_reference_and_uniqueness_faults_all_reported_at_once():
    found = problems(
        """\
        categories:
          notice: {name: 通知}
        subsystems:
          a:
            name: A
            departments:
              d1: {name: D1, staff: [{id: "1", name: X}]}
          b:
            name: B
            departments:
              d1: {name: D1b, staff: [{id: "1", name: Y}]}
        route:
          department: ops
          routes:
            - match: {category: nope}
              department: d1
              contine: true
        classify:
          fallback: missing
        """
    )
    assert found == [
        "cfg.yaml:11: subsystems.b.departments.d1: department id 'd1' is already used in subsystem 'a'; ids must be unique",
        "cfg.yaml:11: subsystems.b.departments.d1.staff[0].id: staff id '1' is already used in department 'd1'",
        "cfg.yaml:13: route.department: unknown department 'ops'; known: d1",
        "cfg.yaml:15: route.routes[0].match.category[0]: unknown category 'nope'; known: notice",
        "cfg.yaml:17: route.routes[0].contine: unknown setting; did you mean 'continue'?",
        "cfg.yaml:19: classify.fallback: unknown category 'missing'; known: notice",
    ]


def test_top_route_needs_a_department():
    found = problems(MINIMAL.replace("route:\n  department: tech\n", "route: {}\n"))
    assert any("route.department: the top route needs a department" in p for p in found)


def test_unquoted_staff_id_keeps_its_leading_zeros():
    cfg = config.parse_text(MINIMAL.replace('id: "007"', "id: 007"))
    assert "007" in cfg.staff()


def test_a_faulty_category_does_not_make_routes_naming_it_look_wrong():
    found = problems(
        MINIMAL.replace("notice: {name: 通知}", "notice: {name: 通知}\n  order: {name: 订单, priority: nope}")
        + "  routes:\n    - match: {category: order}\n"
    )
    assert len(found) == 1 and "categories.order.priority" in found[0]


def test_secret_is_never_echoed():
    cfg = config.parse_text(MINIMAL + "platform:\n  token: s3cr3t-token\n")
    assert isinstance(cfg.platform.token, Secret)
    assert "s3cr3t" not in repr(cfg) and "s3cr3t" not in repr(cfg.platform)
    found = problems(MINIMAL + "platform:\n  token: [s3cr3t-token]\n")
    assert found and not any("s3cr3t" in p for p in found)


def test_missing_and_unreadable_files(tmp_path):
    with pytest.raises(ConfigError, match="no such file"):
        config.load(tmp_path / "nope.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_bytes(b"\xff\xfe\x00garbage")
    with pytest.raises(ConfigError, match="cannot read"):
        config.load(bad)


def test_empty_file_says_what_is_missing(tmp_path):
    empty = tmp_path / "empty.yaml"
    empty.write_text("")
    with pytest.raises(ConfigError) as info:
        config.load(empty)
    assert any("route.department" in p for p in info.value.problems)


def test_default_path_order(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("SPEAKERD_CONFIG", raising=False)
    monkeypatch.setattr(config, "DEFAULT_PATHS", (str(tmp_path / "etc.yaml"), "config.yaml"))
    assert config.default_path("given.yaml").name == "given.yaml"
    (tmp_path / "config.yaml").write_text("")
    assert config.default_path() == config.Path("config.yaml")
    (tmp_path / "etc.yaml").write_text("")
    assert config.default_path() == tmp_path / "etc.yaml"
    monkeypatch.setenv("SPEAKERD_CONFIG", "/from/env.yaml")
    assert str(config.default_path()) == "/from/env.yaml"


def test_database_path_uses_state_directory_then_config_dir(tmp_path, monkeypatch):
    cfg = config.parse_text(MINIMAL)
    monkeypatch.delenv("STATE_DIRECTORY", raising=False)
    assert config.database_path(cfg, tmp_path / "c.yaml") == tmp_path / "speakerd.db"
    monkeypatch.setenv("STATE_DIRECTORY", "/var/lib/speakerd")
    assert str(config.database_path(cfg, tmp_path / "c.yaml")) == "/var/lib/speakerd/speakerd.db"
    absolute = config.parse_text(MINIMAL + "storage:\n  path: /data/x.db\n")
    assert str(config.database_path(absolute, tmp_path / "c.yaml")) == "/data/x.db"


@pytest.mark.parametrize(
    "fleet, expected",
    [
        ("  role: hub\n", "cfg.yaml:1: fleet.broker: a hub needs the broker's address, e.g. mqtt://hub:PASSWORD@hub.local:1883"),
        ("  role: speaker\n  broker: mqtt://fin:pw@hub:1883\n", "cfg.yaml:1: fleet.departments: a speaker needs the departments (or subsystems) it announces"),
        ("  role: speaker\n  broker: mqtt://fin:pw@hub:1883\n  departments: [finance]\n",
         "cfg.yaml:4: fleet.departments[0]: unknown department 'finance'; known: tech"),
        ("  role: speaker\n  broker: mqtt://fin:pw@hub:1883\n  subsystems: [mall]\n", "cfg.yaml:4: fleet.subsystems[0]: unknown subsystem 'mall'; known: hq"),
        ("  broker: http://hub:1883\n", "cfg.yaml:2: fleet.broker: must be mqtt://[user:password@]host[:port] or mqtts://… for TLS"),
        ("  broker: mqtt://u:s3cret@hub:99999\n", "cfg.yaml:2: fleet.broker: the port must be a number from 1 to 65535"),
        ("  device: finance speaker\n", "cfg.yaml:2: fleet.device: 'finance speaker': use letters, digits, '-' and '_' only (it names MQTT topics and the broker user)"),
        ("  role: satellite\n", "cfg.yaml:2: fleet.role: must be one of standalone, hub, speaker (got 'satellite')"),
    ],
)
def test_fleet_faults_name_the_setting_and_never_the_broker_password(fleet, expected):
    found = problems(MINIMAL + "fleet:\n" + fleet)
    shifted = [p.replace("cfg.yaml:", "") for p in found]
    line = MINIMAL.count("\n")
    want = expected.replace("cfg.yaml:", "").split(":", 1)
    assert f"{int(want[0]) + line}:{want[1]}" in shifted, found
    assert not any("s3cret" in p or ":pw@" in p for p in found)


def test_a_platform_url_that_already_names_the_message_api_is_refused_with_the_fix():
    found = problems(MINIMAL + "platform:\n  url: http://shop.example.com/api/v1/messages\n")
    assert any("platform.url: give the part before /v1/messages: speakerd adds that itself" in p for p in found)


def test_a_bad_platform_url_never_echoes_its_password():
    found = problems(MINIMAL + "platform:\n  url: ftp://admin:s3cret@shop.example.com\n")
    assert any("platform.url: must be an http:// or https:// address (got '…@shop.example.com')" in p for p in found)
    assert not any("s3cret" in p for p in found)


def test_a_missing_config_file_says_where_speakerd_looked_and_how_to_get_one(tmp_path):
    with pytest.raises(ConfigError) as info:
        config.load(tmp_path / "config.yaml")
    text = info.value.problems[0]
    assert "no such file" in text and "$SPEAKERD_CONFIG" in text and "/etc/speakerd/config.yaml" in text
    assert "scripts/install.sh" in text and "example_config.yaml ./config.yaml" in text


@pytest.mark.parametrize("kind", ["fifo", "device", "folder", "huge"])
def test_a_config_path_that_is_no_regular_file_or_too_big_is_refused_at_once(tmp_path, kind):
    """Regression: a config path that was a FIFO hung check-config and reload; /dev/zero ended in MemoryError."""
    import os
    import time

    path = {"fifo": tmp_path / "fifo", "device": "/dev/zero", "folder": tmp_path, "huge": tmp_path / "big.yaml"}[kind]
    if kind == "fifo":
        os.mkfifo(path)
    if kind == "huge":
        path.write_text("# padding\n" * 200_000)
    began = time.monotonic()
    with pytest.raises(ConfigError) as info:
        config.load(path)
    assert time.monotonic() - began < 2
    reason = info.value.problems[0]
    assert "cannot read" in reason and ("not a regular file" in reason or "more than a config may have" in reason)


@pytest.mark.parametrize("written, seconds", [("30s", 30), ("5m", 300), ("1h", 3600), ("1.5h", 5400), ("45", 45), ("24h", 86400)])
def test_the_poll_interval_is_written_in_seconds_minutes_or_hours(written, seconds):
    """Regression: the brief says seconds, minutes or hours; only seconds up to 3600 were accepted."""
    text = EXAMPLE.read_text(encoding="utf-8").replace("  poll_interval: 5\n", f"  poll_interval: {written}\n")
    assert config.parse_text(text).platform.poll_interval == seconds


@pytest.mark.parametrize("written, reason", [("5 minutes", "such as 30s, 5m or 1h"), ("25h", "at most 86400"), ("nanm", "finite")])
def test_a_poll_interval_that_is_no_time_is_named_with_its_line(written, reason):
    text = EXAMPLE.read_text(encoding="utf-8").replace("  poll_interval: 5\n", f"  poll_interval: {written}\n")
    with pytest.raises(ConfigError) as refused:
        config.parse_text(text)
    assert any("platform.poll_interval" in p and reason in p for p in refused.value.problems), refused.value.problems
