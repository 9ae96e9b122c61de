# Builds tests/consumer against pstable: MODE=subdirectory uses add_subdirectory on the source
# tree; MODE=install installs pstable into a scratch prefix and uses find_package, then checks
# the installed pkg-config file. CXX is the compiler to use.
file(REMOVE_RECURSE ${WORK_DIR})
set(consumer_src ${CMAKE_CURRENT_LIST_DIR})

function(run)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE out)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "command failed (${rc}): ${ARGN}\n${out}")
  endif()
  set(run_output "${out}" PARENT_SCOPE)
endfunction()

set(compiler -DCMAKE_CXX_COMPILER=${CXX})
if(MODE STREQUAL "install")
  run(${CMAKE_COMMAND} -S ${SOURCE_DIR} -B ${WORK_DIR}/pstable-build ${compiler}
      -DPSTABLE_BUILD_TESTS=OFF -DPSTABLE_BUILD_BENCH=OFF -DPSTABLE_BUILD_EXAMPLES=OFF
      -DPSTABLE_INSTALL=ON -DCMAKE_INSTALL_PREFIX=${WORK_DIR}/prefix)
  run(${CMAKE_COMMAND} --build ${WORK_DIR}/pstable-build --target install)
  run(${CMAKE_COMMAND} -S ${consumer_src} -B ${WORK_DIR}/build ${compiler}
      -DPSTABLE_CONSUMER_MODE=install -DCMAKE_PREFIX_PATH=${WORK_DIR}/prefix)
else()
  # A consumer that does not link pstable::dispatch: its `all` must not build the library.
  run(${CMAKE_COMMAND} -S ${consumer_src} -B ${WORK_DIR}/build ${compiler}
      -DPSTABLE_CONSUMER_MODE=subdirectory -DPSTABLE_SOURCE_DIR=${SOURCE_DIR}
      -DPSTABLE_CONSUMER_DISPATCH=OFF)
  run(${CMAKE_COMMAND} --build ${WORK_DIR}/build)
  file(GLOB_RECURSE archives ${WORK_DIR}/build/*pstable_dispatch*${CMAKE_STATIC_LIBRARY_SUFFIX})
  if(archives)
    message(FATAL_ERROR "a consumer's `all` built pstable::dispatch, which it does not link: ${archives}")
  endif()
  run(${CMAKE_COMMAND} -S ${consumer_src} -B ${WORK_DIR}/build -DPSTABLE_CONSUMER_DISPATCH=ON)
endif()
run(${CMAKE_COMMAND} --build ${WORK_DIR}/build)
run(${WORK_DIR}/build/consumer)
run(${WORK_DIR}/build/consumer_dispatch)

if(MODE STREQUAL "install")
  # The pkg-config file: its version, and a header-only build with its flags (and zlib).
  find_program(PKG_CONFIG pkg-config REQUIRED)
  set(ENV{PKG_CONFIG_PATH} ${WORK_DIR}/prefix/share/pkgconfig)
  run(${PKG_CONFIG} --modversion pstable)
  string(STRIP "${run_output}" pc_version)
  file(STRINGS ${SOURCE_DIR}/include/pstable/version.hpp lines REGEX "^#define PSTABLE_VERSION_")
  string(REGEX REPLACE ".*MAJOR ([0-9]+).*MINOR ([0-9]+).*PATCH ([0-9]+).*" "\\1.\\2.\\3"
         header_version "${lines}")
  if(NOT pc_version STREQUAL header_version)
    message(FATAL_ERROR "pstable.pc says version '${pc_version}', version.hpp '${header_version}'")
  endif()
  run(${PKG_CONFIG} --cflags --libs pstable)
  separate_arguments(pc_flags UNIX_COMMAND "${run_output}")
  run(${CXX} -std=c++17 -Werror -Wall -Wextra ${consumer_src}/consumer.cpp ${pc_flags} -lz
      -o ${WORK_DIR}/consumer_pkgconfig)
  run(${WORK_DIR}/consumer_pkgconfig)
endif()
message(STATUS "consumer (${MODE}) built and ran")
