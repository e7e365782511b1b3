# Compiles shaders/*.comp to SPIR-V at build time with glslc and embeds the words in a library.
#
# Each shader lists its variants at the top, one per line:
#   //! variant <suffix> [-DNAME=VALUE ...]
# giving kernel <file>_<suffix>; the suffix "-" gives kernel <file>. A file with no such line is
# one kernel named after the file. A KernelId enum is generated from the list, so a misspelled
# kernel fails the build. Nothing generated is checked in.

# glslc: Debian's glslc package; on Windows the Vulkan SDK's $VULKAN_SDK/Bin (on PATH after its
# installer, but not in a shell opened before it ran).
find_program(GLSLC_EXECUTABLE glslc HINTS ENV VULKAN_SDK PATH_SUFFIXES Bin bin)
if(NOT GLSLC_EXECUTABLE)
  message(FATAL_ERROR "glslc not found: install Debian's glslc package, or on Windows the Vulkan SDK "
                      "(VULKAN_SDK must point at it; tessera.ps1 installs it)")
endif()

# Probe glslc once for optional GLSL extensions, so older toolchains still build the rest.
function(_tessera_probe_glslc out ext)
  set(dir ${CMAKE_BINARY_DIR}/glslc-probe)
  file(WRITE ${dir}/${ext}.comp "#version 450\n#extension ${ext} : require\nlayout(local_size_x = 1) in;\nvoid main() {}\n")
  execute_process(COMMAND ${GLSLC_EXECUTABLE} --target-env=vulkan1.3 ${dir}/${ext}.comp -o ${dir}/${ext}.spv
                  RESULT_VARIABLE rc OUTPUT_QUIET ERROR_QUIET)
  if(rc EQUAL 0)
    set(${out} ON PARENT_SCOPE)
  else()
    set(${out} OFF PARENT_SCOPE)
  endif()
endfunction()

function(tessera_add_shader_library target shader_dir)
  _tessera_probe_glslc(has_coopmat GL_KHR_cooperative_matrix)
  _tessera_probe_glslc(has_int_dot GL_EXT_integer_dot_product)
  message(STATUS "glslc: GL_KHR_cooperative_matrix=${has_coopmat} GL_EXT_integer_dot_product=${has_int_dot}")

  file(GLOB sources CONFIGURE_DEPENDS ${shader_dir}/*.comp)
  list(SORT sources)
  set(gen ${CMAKE_CURRENT_BINARY_DIR}/generated)
  file(MAKE_DIRECTORY ${gen}/spv)
  set(ids "")
  set(tables "")
  set(names "")
  set(incs "")
  foreach(src ${sources})
    get_filename_component(base ${src} NAME_WE)
    file(STRINGS ${src} lines REGEX "^//! ")
    # The variant list is read here: editing a shader re-runs the configure step.
    set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS ${src})
    set(variants "")
    foreach(line ${lines})
      if(line MATCHES "^//! requires (.+)$")
        set(req ${CMAKE_MATCH_1})
        if((req STREQUAL "coopmat" AND NOT has_coopmat) OR (req STREQUAL "int_dot" AND NOT has_int_dot))
          message(STATUS "shaders: skipping ${base} (glslc lacks ${req})")
          set(variants "SKIP")
          break()
        endif()
      elseif(line MATCHES "^//! variant ([A-Za-z0-9_-]+)(.*)$")
        list(APPEND variants "${CMAKE_MATCH_1}|${CMAKE_MATCH_2}")
      endif()
    endforeach()
    if(variants STREQUAL "SKIP")
      continue()
    endif()
    if(NOT variants)
      set(variants "-|")
    endif()
    foreach(v ${variants})
      string(REPLACE "|" ";" parts "${v}")
      list(GET parts 0 suffix)
      list(LENGTH parts np)
      set(defines "")
      if(np GREATER 1)
        list(GET parts 1 defs)
        separate_arguments(defines UNIX_COMMAND "${defs}")
      endif()
      if(suffix STREQUAL "-")
        set(kernel ${base})
      else()
        set(kernel ${base}_${suffix})
      endif()
      set(inc ${gen}/spv/${kernel}.spv.inc)
      add_custom_command(
        OUTPUT ${inc}
        COMMAND ${GLSLC_EXECUTABLE} --target-env=vulkan1.1 -O -mfmt=num -I${shader_dir}
                -MD -MF ${inc}.d ${defines} -o ${inc} ${src}
        DEPENDS ${src}
        DEPFILE ${inc}.d
        COMMENT "glslc ${kernel}"
        VERBATIM)
      list(APPEND incs ${inc})
      string(APPEND ids "  ${kernel},\n")
      string(APPEND tables "const std::uint32_t k_${kernel}[] = {\n#include \"spv/${kernel}.spv.inc\"\n};\n")
      string(APPEND names "    {\"${kernel}\", k_${kernel}, sizeof(k_${kernel}) / sizeof(std::uint32_t)},\n")
    endforeach()
  endforeach()

  set(TESSERA_KERNEL_IDS "${ids}")
  set(TESSERA_KERNEL_TABLES "${tables}")
  set(TESSERA_KERNEL_ENTRIES "${names}")
  configure_file(${PROJECT_SOURCE_DIR}/cmake/kernel_id.h.in ${gen}/tessera/kernel_id.h @ONLY)
  configure_file(${PROJECT_SOURCE_DIR}/cmake/kernel_registry.cpp.in ${gen}/kernel_registry.cpp @ONLY)
  set_source_files_properties(${gen}/kernel_registry.cpp PROPERTIES OBJECT_DEPENDS "${incs}")

  add_library(${target} STATIC ${gen}/kernel_registry.cpp ${incs})
  target_include_directories(${target} PUBLIC ${gen} ${shader_dir}/..)
  target_compile_features(${target} PUBLIC cxx_std_20)
endfunction()
