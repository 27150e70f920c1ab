# Proves the SDK is usable from outside the tree: install ntkssl into a scratch prefix, build
# sdk/examples/custom_loss against it with find_package(ntkssl), run the example's own test,
# then run a pipeline with the installed ntkssl that uses the new loss.
# Inputs: BUILD_DIR, SOURCE_DIR, WORK_DIR, GENERATOR.
cmake_policy(VERSION 3.25)
file(REMOVE_RECURSE "${WORK_DIR}")
set(prefix "${WORK_DIR}/prefix")
set(example_build "${WORK_DIR}/build")

function(step)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "step failed (${rc}): ${ARGN}\n${out}\n${err}")
  endif()
  set(step_output "${out}${err}" PARENT_SCOPE)
endfunction()

step(${CMAKE_COMMAND} --install "${BUILD_DIR}" --prefix "${prefix}")
step(${CMAKE_COMMAND} -S "${SOURCE_DIR}/sdk/examples/custom_loss" -B "${example_build}" -G "${GENERATOR}"
     -DCMAKE_PREFIX_PATH=${prefix} -DCMAKE_BUILD_TYPE=Release)
step(${CMAKE_COMMAND} --build "${example_build}")
step("${example_build}/negative_cosine_test")

step("${prefix}/bin/ntkssl" plugins list --plugin-path "${example_build}")
if(NOT step_output MATCHES "my_negative_cosine")
  message(FATAL_ERROR "the installed ntkssl does not list the custom loss:\n${step_output}")
endif()
step("${prefix}/bin/ntkssl" run "${SOURCE_DIR}/sdk/examples/custom_loss/pipeline.toml"
     --plugin-path "${example_build}" --out "${WORK_DIR}/out" --quiet)
file(READ "${WORK_DIR}/out/manifest.json" manifest)
string(JSON status GET "${manifest}" status)
string(JSON points_done GET "${manifest}" counts done)
if(NOT status STREQUAL "done" OR NOT points_done EQUAL 3)
  message(FATAL_ERROR "the pipeline with the custom loss did not finish: status ${status}, ${points_done}/3 points done")
endif()
string(FIND "${manifest}" "example.custom_loss" at)
if(at EQUAL -1)
  message(FATAL_ERROR "manifest.json does not record the custom loss's library")
endif()
message(STATUS "custom loss: built against ${prefix}, ran 3 points")
