#!/usr/bin/env bash
# Generate crowd_perception's ROS 2 interfaces (msg/) for the pip-installed rclpy in .venv, with the
# package's own CMakeLists.txt and the rosidl generators of the ROS 2 wheels (no ROS installation),
# and make them importable in .venv as crowd_perception.msg. Called by scripts/setup.sh.
#
# Generated code never enters the source tree: CMake builds in build/ros/ (git-ignored), and
#  - .venv/lib/python3.X/site-packages/crowd_perception.pkg names build/ros/rosidl_generator_py/
#    crowd_perception, which crowd_perception/__init__.py adds to the package's __path__
#    (pkgutil.extend_path), so crowd_perception.msg is found beside our own modules;
#  - the generated C libraries are linked into .venv/lib, where the ROS wheels keep theirs: that
#    folder is on the library path the wheels set up (ros_wheels_bootstrapper), and the C
#    typesupport loads libcrowd_perception__rosidl_typesupport_*.so by name at run time.
# Skipped when the hash of its inputs (msg/, CMakeLists.txt, package.xml, the wheel pins, this
# script) is unchanged and the result imports.
set -euo pipefail
cd "$(dirname "$0")/.."

venv="$PWD/.venv"
build="$PWD/build/ros"
python="$venv/bin/python"
site=$("$python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
inputs_hash=$(cat msg/*.msg CMakeLists.txt package.xml scripts/ros2-wheels.txt scripts/pip_ros.cmake "$0" \
  <("$python" -c 'import sys; print(sys.version)') | sha256sum | cut -d' ' -f1)

importable() {
  "$python" -c 'import rclpy; from crowd_perception.msg import DetectionArray; DetectionArray()' >/dev/null 2>&1
}

if [ "$(cat "$build/inputs.sha256" 2>/dev/null)" != "$inputs_hash" ]; then
  rm -rf "$build"
  mkdir -p "$build"
  started=$(date +%s)
  # ament's resource index (typesupport lookup) and CMake's package configs both live in the venv.
  # The install prefix is the venv too, the prefix of the wheels: CMake rejects exported include
  # paths inside the source tree (the venv's NumPy headers) unless they are under the install
  # prefix. The install step itself is never run (it would copy our modules beside the editable
  # install); what the venv needs is linked below.
  export AMENT_PREFIX_PATH="$venv"
  if ! cmake -S . -B "$build" -DCMAKE_PREFIX_PATH="$venv" -DCMAKE_INSTALL_PREFIX="$venv" -DPython3_EXECUTABLE="$python" \
       -DCMAKE_PROJECT_INCLUDE="$PWD/scripts/pip_ros.cmake" -DBUILD_TESTING=OFF -DCMAKE_BUILD_TYPE=Release \
       >"$build/configure.log" 2>&1; then
    tail -30 "$build/configure.log" >&2
    echo "build_interfaces.sh: CMake configure failed (log: $build/configure.log)" >&2
    exit 1
  fi
  if ! cmake --build "$build" -j"$(nproc)" >"$build/build.log" 2>&1; then
    tail -30 "$build/build.log" >&2
    echo "build_interfaces.sh: build failed (log: $build/build.log)" >&2
    exit 1
  fi
  echo "$inputs_hash" > "$build/inputs.sha256"
  echo "generated crowd_perception.msg for the pip-installed rclpy in $(( $(date +%s) - started )) s ($build)"
fi

echo "$build/rosidl_generator_py/crowd_perception" > "$site/crowd_perception.pkg"
for lib in "$build"/libcrowd_perception__*.so; do
  ln -sf "$lib" "$venv/lib/$(basename "$lib")"
done
if ! importable; then
  "$python" -c 'import rclpy; from crowd_perception.msg import DetectionArray' >&2 || true
  echo "build_interfaces.sh: crowd_perception.msg does not import in .venv after generation" >&2
  exit 1
fi
