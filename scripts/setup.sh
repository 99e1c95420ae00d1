#!/usr/bin/env bash
# Set up everything on a fresh machine: Debian's ROS 2 IDL tools (for the .msg checks) and a
# virtual environment in .venv with the package and its extras. Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."

# (Debian's python3-rosidl does not pull in empy / catkin_pkg, which `rosidl translate` needs.)
if ! command -v rosidl >/dev/null 2>&1 || ! /usr/bin/python3 -c "import rosidl_parser, em, catkin_pkg" 2>/dev/null; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    apt-get install -y -q python3-rosidl rosidl-tools python3-empy python3-catkin-pkg >/dev/null 2>&1 \
      || { apt-get update -q >/dev/null \
           && apt-get install -y -q python3-rosidl rosidl-tools python3-empy python3-catkin-pkg >/dev/null; }
  else
    echo "note: python3-rosidl / rosidl-tools / python3-empy / python3-catkin-pkg not installed; the rosidl .msg checks will skip" >&2
  fi
fi

[ -x .venv/bin/python ] || python3 -m venv .venv
.venv/bin/python -m pip install -q --disable-pip-version-check --upgrade pip >/dev/null
# torch is pinned: 2.13.0 resolves to the CPU build on this machine; an unpinned torch pulls CUDA.
.venv/bin/python -m pip install -q --disable-pip-version-check -e ".[train,eval,dev]"
# One OpenCV build only: every OpenCV wheel installs into the same cv2/ folder. We use the headless
# contrib build (it carries the HOG people detector, our untrained baseline); trackeval declares the
# GUI build opencv-python (needs libGL) and other packages may pull the plain headless one. Remove
# those and reinstall ours over whatever files they left (trackeval uses cv2 only for a metric we skip).
for other in opencv-python opencv-python-headless; do
  if .venv/bin/python -m pip show -q "$other" >/dev/null 2>&1; then
    .venv/bin/python -m pip uninstall -q -y "$other"
    reinstall_cv2=1
  fi
done
if [ -n "${reinstall_cv2:-}" ] || ! .venv/bin/python -c "import cv2; cv2.HOGDescriptor" 2>/dev/null; then
  .venv/bin/python -m pip install -q --disable-pip-version-check --force-reinstall --no-deps "opencv-contrib-python-headless>=4.8"
fi
