# Builds tests/consumer against pstable: MODE=subdirectory uses add_subdirectory on the source
# tree; MODE=install installs pstable into a scratch prefix and uses find_package.
file(REMOVE_RECURSE ${WORK_DIR})
set(consumer_src ${CMAKE_CURRENT_LIST_DIR})

function(run)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE out)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "command failed (${rc}): ${ARGN}\n${out}")
  endif()
endfunction()

if(MODE STREQUAL "install")
  run(${CMAKE_COMMAND} -S ${SOURCE_DIR} -B ${WORK_DIR}/pstable-build
      -DPSTABLE_BUILD_TESTS=OFF -DPSTABLE_BUILD_BENCH=OFF -DPSTABLE_BUILD_EXAMPLES=OFF
      -DPSTABLE_INSTALL=ON -DCMAKE_INSTALL_PREFIX=${WORK_DIR}/prefix)
  run(${CMAKE_COMMAND} --build ${WORK_DIR}/pstable-build --target install)
  run(${CMAKE_COMMAND} -S ${consumer_src} -B ${WORK_DIR}/build
      -DPSTABLE_CONSUMER_MODE=install -DCMAKE_PREFIX_PATH=${WORK_DIR}/prefix)
else()
  run(${CMAKE_COMMAND} -S ${consumer_src} -B ${WORK_DIR}/build
      -DPSTABLE_CONSUMER_MODE=subdirectory -DPSTABLE_SOURCE_DIR=${SOURCE_DIR})
endif()
run(${CMAKE_COMMAND} --build ${WORK_DIR}/build)
run(${WORK_DIR}/build/consumer)
run(${WORK_DIR}/build/consumer_dispatch)
message(STATUS "consumer (${MODE}) built and ran")
