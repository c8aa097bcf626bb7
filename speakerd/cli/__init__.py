"""The ``speakerd`` command: argument parsing and printing only; the work is done elsewhere."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable

from speakerd import __version__
from speakerd.cli.device import (
    cmd_ack,
    cmd_check_config,
    cmd_fleet,
    cmd_fleet_add,
    cmd_fleet_join,
    cmd_kiosk_url,
    cmd_messages,
    cmd_panel,
    cmd_push_test,
    cmd_run,
    cmd_set_password,
    cmd_setup_code,
    cmd_stats,
    cmd_status,
)
from speakerd.cli.office import cmd_duty, cmd_mute, cmd_replay
from speakerd.cli.tools import cmd_demo, cmd_platform_check, cmd_say, cmd_stub
from speakerd.reports.operations import KINDS as OPERATIONS
from speakerd.store.reports import TALLY_KEYS

__all__ = ["build_parser", "main"]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="speakerd", description="Tells shop staff about platform events: aloud, on a panel, on their phones.")
    parser.add_argument("--version", action="version", version=f"speakerd {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def command(name: str, func: Callable[[argparse.Namespace], int | None], help: str) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help, description=help)
        p.set_defaults(func=func)
        return p

    def config_option(p: argparse.ArgumentParser) -> None:
        p.add_argument("-c", "--config", metavar="FILE", help="config file (default: $SPEAKERD_CONFIG, /etc/speakerd/config.yaml, ./config.yaml)")

    config_option(command("run", cmd_run, "run the daemon until SIGTERM; SIGHUP or a saved config file reloads it"))
    config_option(command("check-config", cmd_check_config, "check a config file; print each fault as FILE:LINE: field: reason"))

    p = command("stub", cmd_stub, "serve the platform stub (the shop platform's message API) for trying speakerd out")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=8808, help="port to listen on (default 8808)")
    p.add_argument("--scenario", choices=["office", "orders", "members", "campaigns", "flash-sale", "flash-orders", "empty"], default="office",
                   help="which events to serve: the office mix (default), one family, or flash-orders (a burst of paid orders)")
    p.add_argument("--count", type=int, help="how many events the scenario makes")
    p.add_argument("--vip-threshold", type=float, help="spending (yuan) from which the platform counts a customer as VIP (default 1000)")
    p.add_argument("--consolation-after", type=int, help="failed flash-sale attempts after which a buyer is owed a consolation coupon (default 3)")
    p.add_argument("--pace", type=float, default=3.0, help="seconds between two events; 0 serves them all at once (default 3)")
    p.add_argument("--token", default="demo-token", help="bearer token clients must send (default demo-token)")

    p = command("platform-check", cmd_platform_check, "check a shop platform's implementation of the message API (docs/platform-api.md)"
                " against the contract, in Chinese and English; exit 1 if it breaks a rule")
    p.add_argument("url", metavar="URL", help="the platform's base address (the part before /v1/messages)")
    p.add_argument("--token", required=True, help="the bearer token the platform issued for a device")
    p.add_argument("--timeout", type=float, default=10.0, help="seconds an answer may take (default 10)")

    p = command("demo", cmd_demo, "run the stub and the daemon together on loopback, for a first look")
    p.add_argument("--dir", help="keep the demo's config and database here (default: a new temporary folder)")
    p.add_argument("--pace", type=float, default=3.0, help="seconds between two events (default 3)")
    p.add_argument("--count", type=int, default=120, help="how many events the office scenario makes (default 120)")
    p.add_argument("--fleet", action="store_true", help="start mosquitto, a hub and two department speakers (finance; orders) instead of one device")

    p = command("stats", cmd_stats, "reports: messages, acknowledgement, time to acknowledge, orders and outages, by any key;"
                " the operations reports and analysis")
    config_option(p)
    p.add_argument("--by", choices=[*TALLY_KEYS, *OPERATIONS],
                   default="total", help="what to count by (default total); funnel, vip, channel, campaign and flash_sale are the"
                   " operations reports (docs/stats.md)")
    p.add_argument("--analysis", action="store_true", help="write the operations analysis of the range against the one before it")
    p.add_argument("--since", help="first day: 2026-11-01, today or 7d (seven days ago)")
    p.add_argument("--until", help="last day, included")
    p.add_argument("--format", choices=["table", "csv", "json"], default="table", help="table (default), csv or json")
    p.add_argument("--chart", metavar="OUT", help="also draw the report as a chart, OUT.png or OUT.svg")

    p = command("say", cmd_say, "speak TEXT with the configured voices, or write it to a WAV file")
    p.add_argument("text", nargs="?", metavar="TEXT", help="what to say; Chinese and English may be mixed")
    p.add_argument("--lang", choices=["zh", "en"], default="zh", help="zh (default: Chinese, English words by the English voice) or en")
    p.add_argument("--wav", metavar="OUT", help="write exactly what would be played (without chime) to this WAV file")
    p.add_argument("--list-devices", action="store_true", help="list the sound devices speech.device may name")
    p.add_argument("--list-voices", action="store_true", help="list the voices per language, in auto order, with their licences")
    p.add_argument("--explain", action="store_true", help="print how TEXT would be read, one line per run: language, engine, "
                                                           "the words, and the pinyin fed to the voice; speak nothing")
    config_option(p)

    p = command("panel", cmd_panel, "render what the OLED panel shows now to a PNG file")
    p.add_argument("--snapshot", metavar="OUT.png", required=True, help="where to write the picture")
    p.add_argument("--scale", type=int, default=4, help="pixels per panel pixel (default 4: 512×256)")
    config_option(p)

    p = command("setup-code", cmd_setup_code, "print the code the set-up page asks for, on a device whose web password is not set yet")
    config_option(p)

    p = command("kiosk-url", cmd_kiosk_url, "print the link that shows the board on the device's own screen, without a password")
    config_option(p)

    p = command("set-password", cmd_set_password, "set the web page's password (kept only as a hash beside the config file)")
    p.add_argument("--stdin", action="store_true", help="read the password from the first line of standard input instead of asking")
    config_option(p)

    p = command("ack", cmd_ack, "acknowledge a message by its platform id: its reminders and escalation stop")
    p.add_argument("message_id", metavar="MESSAGE_ID", help="the platform's id, e.g. m-000123")
    config_option(p)

    p = command("duty", cmd_duty, "who is on duty now in each department; with STAFF_ID, a change for one day (off, on, covers a colleague, clear)")
    p.add_argument("staff_id", nargs="?", metavar="STAFF_ID", help="the person whose day changes, e.g. 002")
    p.add_argument("change", nargs="?", choices=["off", "on", "covers", "clear"], default="off",
                   help="off (default), on, covers OTHER_ID (takes their shifts; they are off), or clear (back to the rota)")
    p.add_argument("covers", nargs="?", metavar="OTHER_ID", help="with covers: the colleague whose shifts are taken")
    p.add_argument("--day", help="the day of the change: today (default), 2026-12-07 or another date")
    config_option(p)

    p = command("mute", cmd_mute, "silence one category or department on the speaker for a while (panel and pushes go on); alone, list the mutes")
    which = p.add_mutually_exclusive_group()
    which.add_argument("--category", metavar="ID", help="a category id, e.g. campaign")
    which.add_argument("--department", metavar="ID", help="a department id, e.g. marketing")
    p.add_argument("--for", dest="for_", default="1h", metavar="TIME", help="how long: 15m, 1h (default), 4h or tomorrow (until midnight)")
    p.add_argument("--end", action="store_true", help="end the mute now")
    config_option(p)

    config_option(command("replay", cmd_replay, "have the running daemon say the last announcement again"))

    p = command("push-test", cmd_push_test, "send a test notification to each push target of one staff member and say which worked")
    p.add_argument("staff_id", metavar="STAFF_ID", help='the staff id, e.g. 003')
    config_option(p)

    p = command("fleet", cmd_fleet, "list the devices the broker knows (hub, speakers) with their state; --sites: every site and today's counts")
    p.add_argument("--sites", action="store_true", help="every site of the installation, with each hub's counts of today")
    config_option(p)

    p = command("fleet-add", cmd_fleet_add, "on the hub (as root): give a device a user on the broker and its ACL; prints the address it joins with")
    p.add_argument("name", metavar="NAME", help="the device's name, e.g. finance-speaker (its fleet.device)")
    p.add_argument("--departments", help="for a speaker: the department ids it announces, comma-separated")
    p.add_argument("--hub", action="store_true", help="the hub itself (with -c: also set its own fleet settings)")
    p.add_argument("--site", default="office", help="the site (office or branch) of the device (default office)")
    p.add_argument("--base-topic", default="speakerd", help="the installation's first topic level (default speakerd)")
    p.add_argument("--host", default="", help="the hub's address as devices reach it (default: HOSTNAME.local)")
    p.add_argument("--port", type=int, default=1883, help="the broker's port (default 1883)")
    p.add_argument("--mosquitto-dir", default="/etc/mosquitto", help="where mosquitto's files are (default /etc/mosquitto)")
    p.add_argument("--no-reload", action="store_true", help="do not reload mosquitto now")
    config_option(p)

    p = command("fleet-join", cmd_fleet_join, "on a speaker: join the hub with the address fleet-add printed, for the given departments")
    p.add_argument("broker", metavar="URL", help="mqtt://NAME:PASSWORD@hub.local:1883, as 'speakerd fleet-add' printed it")
    p.add_argument("--departments", required=True, help="the department ids this speaker announces, comma-separated")
    p.add_argument("--site", default="office", help="the site (office or branch) (default office)")
    config_option(p)

    config_option(command("status", cmd_status, "print the daemon's health (platform, outages today, outputs); exit 1 when unhealthy"))

    p = command("messages", cmd_messages, "list stored messages with their category, department, staff and output states")
    config_option(p)
    p.add_argument("--since", help="only messages received since: 30m, 2h, 7d, today or an ISO date/time")
    p.add_argument("--limit", type=int, default=50, help="at most this many, newest first (default 50)")
    p.add_argument("--format", choices=["table", "json"], default="table", help="table (default) or json")
    p.add_argument("--quarantined", action="store_true", help="list the messages kept aside as malformed, with the reason")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args) or 0
    except BrokenPipeError:
        # The reader went away ('speakerd messages | head -1'): nothing more to say, and no traceback.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
