# Included by scripts/setup.sh (CMAKE_PROJECT_INCLUDE) when CMakeLists.txt generates our interfaces
# against the ROS 2 wheels of the package index instead of a ROS installation; never used by colcon.
#
# The wheels were built in a manylinux container: the exported targets of their Python message
# libraries (e.g. std_msgs::std_msgs__rosidl_generator_py) name that container's interpreter and
# NumPy headers (/opt/python/cp311-cp311/...) in INTERFACE_INCLUDE_DIRECTORIES, and CMake refuses
# to generate with include paths that do not exist. Once CMakeLists.txt has been read, such paths
# of imported targets are replaced by this interpreter's and this NumPy's headers (same Python
# minor version: the wheels only install into a matching interpreter). Nothing else is changed.

function(_crowd_perception_fix_wheel_include_dirs)
  find_package(Python3 REQUIRED COMPONENTS Interpreter Development.Module NumPy)
  get_directory_property(_targets DIRECTORY "${CMAKE_SOURCE_DIR}" IMPORTED_TARGETS)
  foreach(_target IN LISTS _targets)
    get_target_property(_dirs ${_target} INTERFACE_INCLUDE_DIRECTORIES)
    if(NOT _dirs)
      continue()
    endif()
    set(_fixed "")
    set(_changed FALSE)
    foreach(_dir IN LISTS _dirs)
      if(EXISTS "${_dir}" OR _dir MATCHES "^\\$<")
        list(APPEND _fixed "${_dir}")
      elseif(_dir MATCHES "/numpy/")
        list(APPEND _fixed ${Python3_NumPy_INCLUDE_DIRS})
        set(_changed TRUE)
      elseif(_dir MATCHES "/include/python3")
        list(APPEND _fixed ${Python3_INCLUDE_DIRS})
        set(_changed TRUE)
      else()
        list(APPEND _fixed "${_dir}")
      endif()
    endforeach()
    if(_changed)
      list(REMOVE_DUPLICATES _fixed)
      message(STATUS "pip_ros.cmake: ${_target} includes ${_fixed}")
      set_target_properties(${_target} PROPERTIES INTERFACE_INCLUDE_DIRECTORIES "${_fixed}")
    endif()
  endforeach()
endfunction()

cmake_language(DEFER DIRECTORY "${CMAKE_SOURCE_DIR}" CALL _crowd_perception_fix_wheel_include_dirs)
