# Helpers shared by every component: warnings, sanitizers, libraries, tests.

set(MH_WARNINGS -Wall -Wextra -Wpedantic -Wshadow=local -Wnon-virtual-dtor)
if(MH_WERROR)
  list(APPEND MH_WARNINGS -Werror)
endif()

if(MH_SANITIZE)
  add_compile_options(-fsanitize=${MH_SANITIZE} -fno-omit-frame-pointer
                      -fno-sanitize-recover=all)
  add_link_options(-fsanitize=${MH_SANITIZE})
endif()

# mh_add_library(NAME SOURCES ... DEPS ...): static library mh_NAME, includes
# rooted at src/.
function(mh_add_library name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS" ${ARGN})
  add_library(mh_${name} STATIC ${ARG_SOURCES})
  target_include_directories(mh_${name} PUBLIC ${PROJECT_SOURCE_DIR}/src)
  target_compile_options(mh_${name} PRIVATE ${MH_WARNINGS})
  target_link_libraries(mh_${name} PUBLIC ${ARG_DEPS})
endfunction()

# mh_add_test(NAME SOURCES ... DEPS ... [LABELS ...]): one GoogleTest binary,
# its tests discovered into CTest. Tests run from the source root so that
# ../shared resolves as documented.
function(mh_add_test name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS;LABELS" ${ARGN})
  if(NOT ARG_LABELS)
    set(ARG_LABELS unit)
  endif()
  add_executable(${name} ${ARG_SOURCES})
  target_compile_options(${name} PRIVATE ${MH_WARNINGS})
  target_link_libraries(${name} PRIVATE ${ARG_DEPS} mh_testing GTest::gtest
                                        GTest::gmock GTest::gtest_main)
  if("unit" IN_LIST ARG_LABELS)
    set_property(GLOBAL APPEND PROPERTY MH_UNIT_TESTS ${name})
  endif()
  gtest_discover_tests(${name}
    WORKING_DIRECTORY ${PROJECT_SOURCE_DIR}
    TEST_LIST ${name}_TESTS
    DISCOVERY_TIMEOUT 60)
  # Labels and environment are set by a CTest include that runs after the
  # discovered tests are added: gtest_discover_tests' PROPERTIES cannot carry
  # list values (several labels, several variables) in CMake 3.25.
  file(GENERATE OUTPUT ${CMAKE_CURRENT_BINARY_DIR}/${name}_properties.cmake
    CONTENT "foreach(t IN LISTS ${name}_TESTS)
  set_tests_properties(\"\${t}\" PROPERTIES LABELS \"${ARG_LABELS}\"
    ENVIRONMENT \"MH_BINARY=$<TARGET_FILE:machine-health>;MH_SOURCE_DIR=${PROJECT_SOURCE_DIR}\")
endforeach()
")
  set_property(DIRECTORY APPEND PROPERTY TEST_INCLUDE_FILES
    ${CMAKE_CURRENT_BINARY_DIR}/${name}_properties.cmake)
endfunction()

# mh_embed_files(OUT_CC FILES...): turns files (absolute paths under web/) into a C++ source
# defining `const EmbeddedFile kEmbeddedFiles[]` (path relative to the source
# root's web/ folder, bytes, size). An argument "/URL=PATH" embeds PATH (any
# absolute path) as URL path /URL. Regenerated when any input changes.
function(mh_embed_files out_cc)
  set(inputs ${ARGN})
  set(deps "")
  foreach(entry IN LISTS inputs)
    if(entry MATCHES "^/[^=]+=(.+)$")
      list(APPEND deps "${CMAKE_MATCH_1}")
    else()
      list(APPEND deps "${entry}")
    endif()
  endforeach()
  add_custom_command(
    OUTPUT ${out_cc}
    COMMAND ${CMAKE_COMMAND} -DOUT=${out_cc} -DBASE=${PROJECT_SOURCE_DIR}/web
            "-DINPUTS=${inputs}" -P ${PROJECT_SOURCE_DIR}/cmake/embed_files.cmake
    DEPENDS ${deps} ${PROJECT_SOURCE_DIR}/cmake/embed_files.cmake
    COMMENT "Embedding web assets"
    # VERBATIM: without it the ';' separating INPUTS reaches the shell unquoted
    # and ends the command after the first file.
    VERBATIM)
endfunction()
