# Every dependency comes from Debian 12 packages (scripts/setup.sh installs them).
find_package(Threads REQUIRED)
find_package(fmt REQUIRED)
find_package(nlohmann_json 3.10 REQUIRED)
find_package(CLI11 REQUIRED)
find_package(JPEG REQUIRED)
find_package(PNG REQUIRED)
find_package(Freetype REQUIRED)
find_path(FLATBUFFERS_INCLUDE_DIR flatbuffers/flatbuffers.h REQUIRED)
find_library(FLATBUFFERS_LIBRARY flatbuffers REQUIRED)
add_library(qdet_flatbuffers_deps INTERFACE)
target_include_directories(qdet_flatbuffers_deps INTERFACE ${FLATBUFFERS_INCLUDE_DIR})
target_link_libraries(qdet_flatbuffers_deps INTERFACE ${FLATBUFFERS_LIBRARY})
find_program(FLATC flatc REQUIRED)
if(QDET_BUILD_TESTS)
  find_package(GTest REQUIRED)
endif()
if(QDET_BUILD_BENCH)
  find_package(benchmark REQUIRED)
endif()

# XNNPACK ships no CMake config (docs/ARCHITECTURE.md, "Build notes"): find it by hand. xnnpack.h includes pthreadpool.h.
find_path(XNNPACK_INCLUDE_DIR xnnpack.h REQUIRED)
find_library(XNNPACK_LIBRARY XNNPACK REQUIRED)
find_library(PTHREADPOOL_LIBRARY pthreadpool REQUIRED)
find_library(CPUINFO_LIBRARY cpuinfo REQUIRED)
add_library(qdet_xnnpack_deps INTERFACE)
target_include_directories(qdet_xnnpack_deps INTERFACE ${XNNPACK_INCLUDE_DIR})
target_link_libraries(qdet_xnnpack_deps INTERFACE ${XNNPACK_LIBRARY} ${PTHREADPOOL_LIBRARY}
                      ${CPUINFO_LIBRARY} Threads::Threads)

# oneDNN (Debian libdnnl-dev, built with GNU OpenMP): the kernels in src/runtime/kernels/onednn.
# dnnl.hpp is in /usr/include; -fopenmp only at link time (omp_set_num_threads from libgomp).
find_path(DNNL_INCLUDE_DIR dnnl.hpp REQUIRED)
find_library(DNNL_LIBRARY dnnl REQUIRED)
add_library(qdet_onednn_deps INTERFACE)
target_link_libraries(qdet_onednn_deps INTERFACE ${DNNL_LIBRARY} -fopenmp)

# Helper: a module library from every .cpp in its folder (subfolders included), excluding *_test.cpp.
function(qdet_module name)
  cmake_parse_arguments(ARG "" "" "DEPS" ${ARGN})
  file(GLOB_RECURSE srcs CONFIGURE_DEPENDS "${CMAKE_CURRENT_SOURCE_DIR}/*.cpp")
  list(FILTER srcs EXCLUDE REGEX "_test\\.cpp$")
  add_library(qdet_${name} STATIC ${srcs})
  if(QDET_BUILD_PYTHON)
    # The Python extension links the module libraries into a shared object: position-independent
    # code, and -fno-semantic-interposition keeps the codegen of a PIE executable (calls inside
    # a library stay direct and inlinable). Executables keep the compiler's defaults.
    set_target_properties(qdet_${name} PROPERTIES POSITION_INDEPENDENT_CODE ON)
    target_compile_options(qdet_${name} PRIVATE -fno-semantic-interposition)
  endif()
  target_include_directories(qdet_${name} PUBLIC ${CMAKE_SOURCE_DIR}/src)
  target_link_libraries(qdet_${name} PUBLIC ${ARG_DEPS})
endfunction()
